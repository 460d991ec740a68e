// The text of the reply in flight, kept in the browser. The server sends only what is new, with
// the offset it starts at (append), or the whole text when the reply changed (reset); a reply
// that ended as shown here is kept by its id (keep), and its saved version comes without it.
// Results go to the page's client states through `refs`, as Reflex's own push does. An update
// past the end of what is here means one was missed (the socket reconnected meanwhile): the text
// is kept as it is and the server is asked for all of it.
(() => {
  let text = "";
  let kept = {};
  const put = (refs, name, value) => {
    const set = refs[`_client_state_set${name[0].toUpperCase()}${name.slice(1)}`];
    if (set) set(value);
    else refs[`_client_state_${name}`] = value; // taken by the view when it mounts
  };
  window.liveText = {
    append(refs, at, piece) {
      if (at > text.length) {
        document.getElementById("live-resync")?.click();
        return;
      }
      text = text.slice(0, at) + piece; // a piece sent twice replaces itself
      put(refs, "live_text", text);
    },
    reset(refs, whole) {
      text = whole;
      put(refs, "live_text", text);
    },
    keep(refs, messageId) {
      kept = { ...kept, [messageId]: text };
      put(refs, "kept_texts", kept);
      text = "";
      put(refs, "live_text", text);
    },
    forget(refs) {
      kept = {};
      put(refs, "kept_texts", kept);
    },
  };
})();
