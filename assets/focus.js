// The keyboard's place is never lost: when the focused control leaves the page (a chat pinned or
// deleted, a reply regenerated, another version shown, a dialog whose opener went), the focus
// moves to the message box (or, on a page without one, the main content) instead of falling back
// to the start of the document. Only for the keyboard's focus (a tap on a phone would otherwise
// open its keyboard); a click elsewhere, which leaves nothing focused, is left alone.
(() => {
  let last = null;
  document.addEventListener("focusin", (e) => {
    last = e.target.matches && e.target.matches(":focus-visible") ? e.target : null;
  }, true);
  const landing = () =>
    document.querySelector('[data-testid="composer-input"]') || document.querySelector("main, [role=main]");
  const check = () => {
    if (!last || last.isConnected) return;
    last = null;
    if (document.activeElement && document.activeElement !== document.body) return;
    // A dialog still open takes the focus back itself.
    if (document.querySelector('[role="dialog"], [role="alertdialog"]')) return;
    const target = landing();
    if (target) target.focus({ preventScroll: true });
  };
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    // After the frame's changes (and a dialog's own return of the focus) have settled.
    requestAnimationFrame(() => { queued = false; setTimeout(check, 0); });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
