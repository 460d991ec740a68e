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

  // A link to one message (jump.js) takes the reader there: the end no longer pulls them back.
  window.chatStopFollowing = () => { pinned = false; };

  // Older messages are put on top of the conversation: the message the reader looks at stays put.
  window.chatKeepPlace = () => {
    const pane = document.querySelector(".conversation");
    const anchor = pane && pane.querySelector('[data-testid="message"]');
    if (!anchor) return;
    pinned = false;
    const top = anchor.getBoundingClientRect().top;
    const keep = () => {
      const shift = anchor.isConnected ? anchor.getBoundingClientRect().top - top : 0;
      if (shift) pane.scrollTop += shift;
    };
    const grown = new MutationObserver(keep);
    grown.observe(pane, { childList: true, subtree: true });
    pane.addEventListener("load", keep, true);
    setTimeout(() => { grown.disconnect(); pane.removeEventListener("load", keep, true); }, 2000);
  };
  // Reaching the top of the conversation asks for the page above it; reaching the end of the
  // sidebar's chats, for the next page of them.
  const whenSeen = (testid, margin) => {
    const seenNow = new IntersectionObserver((seen) => {
      if (seen.some((e) => e.isIntersecting)) seen[0].target.click();
    }, { rootMargin: margin });
    let button = null;
    new MutationObserver(() => {
      const found = document.querySelector(`[data-testid="${testid}"]`);
      if (found === button) return;
      if (button) seenNow.unobserve(button);
      button = found;
      if (button) seenNow.observe(button);
    }).observe(document.documentElement, { childList: true, subtree: true });
  };
  whenSeen("load-earlier", "200px 0px 0px 0px");
  whenSeen("load-more-chats", "0px 0px 200px 0px");
})();
