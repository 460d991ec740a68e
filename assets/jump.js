// A link to one message (#message-<id>, a search result) brings it into view once the chat shows
// it, and marks it for a moment. (The link says `?at=<id>` too: the chat opens the branch holding
// the message, reaching up to it.)
(() => {
  let handled = "";
  setInterval(() => {
    const hash = location.hash;
    if (!hash.startsWith("#message-")) { handled = ""; return; }
    if (hash === handled) return;
    const id = hash.slice("#message-".length);
    const message = document.querySelector(`[data-message-id="${CSS.escape(id)}"]`);
    if (!message) return;
    handled = hash;
    // Content still arriving (a page above, pictures) must not carry the reader away from it.
    window.chatStopFollowing?.();
    message.scrollIntoView({ block: "center" });
    for (const later of [300, 1000]) {
      setTimeout(() => { if (message.isConnected && location.hash === hash) message.scrollIntoView({ block: "center" }); }, later);
    }
    message.classList.add("message-found");
    setTimeout(() => message.classList.remove("message-found"), 2500);
  }, 200);
})();
