// The conversation follows new content (sent messages, streamed text, a finished picture) while
// the reader is at its end; someone who scrolled up to read is left where they are.
(() => {
  const NEAR_END = 120; // px
  let pinned = true;
  let watched = null;
  const atEnd = (el) => el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_END;
  const follow = new MutationObserver(() => {
    if (watched && pinned) watched.scrollTop = watched.scrollHeight;
  });
  const attach = () => {
    const pane = document.querySelector(".conversation");
    if (pane === watched) return;
    follow.disconnect();
    watched = pane;
    if (!pane) return;
    pinned = true;
    pane.scrollTop = pane.scrollHeight;
    pane.addEventListener("scroll", () => { pinned = atEnd(pane); }, { passive: true });
    follow.observe(pane, { childList: true, subtree: true, characterData: true });
    // Pictures and videos grow after they load; stay at the end when they do.
    pane.addEventListener("load", () => { if (pinned) pane.scrollTop = pane.scrollHeight; }, true);
    pane.addEventListener("loadedmetadata", () => { if (pinned) pane.scrollTop = pane.scrollHeight; }, true);
  };
  new MutationObserver(attach).observe(document.documentElement, { childList: true, subtree: true });
  attach();
})();
