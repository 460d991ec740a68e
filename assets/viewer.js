// A picture in a message opens in a viewer over the page: ← and → (or its buttons) go to the
// other pictures of the conversation, Esc or a click outside closes it, and the focus returns to
// the picture it came from. The link itself still opens the file (a new tab on Ctrl/⌘-click).
(() => {
  const PICTURES = '[data-testid="media-preview"][data-kind="image"]';
  let viewer = null;
  let shown = -1;
  let cameFrom = null;

  const pictures = () => [...document.querySelectorAll(PICTURES)];

  const button = (label, testid, text, onClick) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `viewer-button viewer-${testid}`;
    b.setAttribute("aria-label", label);
    b.dataset.testid = `viewer-${testid}`;
    b.textContent = text;
    b.addEventListener("click", (e) => { e.stopPropagation(); onClick(); });
    return b;
  };

  const build = () => {
    viewer = document.createElement("div");
    viewer.className = "viewer";
    viewer.setAttribute("role", "dialog");
    viewer.setAttribute("aria-modal", "true");
    viewer.setAttribute("aria-label", "Picture");
    viewer.dataset.testid = "media-viewer";
    const image = document.createElement("img");
    image.className = "viewer-image";
    image.dataset.testid = "viewer-image";
    const caption = document.createElement("p");
    caption.className = "viewer-caption";
    caption.dataset.testid = "viewer-caption";
    viewer.append(
      button("Close", "close", "✕", close),
      button("Previous picture", "previous", "‹", () => step(-1)),
      image,
      button("Next picture", "next", "›", () => step(1)),
      caption,
    );
    viewer.addEventListener("click", (e) => { if (e.target === viewer) close(); });
    viewer.addEventListener("keydown", onKey);
    document.body.append(viewer);
  };

  const show = (index) => {
    const all = pictures();
    if (!all.length) return close();
    shown = (index + all.length) % all.length;
    const link = all[shown];
    const thumb = link.querySelector("img");
    const image = viewer.querySelector(".viewer-image");
    image.src = link.getAttribute("href");
    image.alt = thumb ? thumb.alt : "Picture";
    viewer.querySelector(".viewer-caption").textContent = `${image.alt} · ${shown + 1} / ${all.length}`;
    viewer.querySelector(".viewer-previous").hidden = all.length < 2;
    viewer.querySelector(".viewer-next").hidden = all.length < 2;
  };

  const step = (by) => show(shown + by);

  const close = () => {
    if (!viewer) return;
    viewer.remove();
    viewer = null;
    shown = -1;
    if (cameFrom && document.contains(cameFrom)) cameFrom.focus();
  };

  const onKey = (e) => {
    if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); close(); }
    else if (e.key === "ArrowLeft") { e.preventDefault(); step(-1); }
    else if (e.key === "ArrowRight") { e.preventDefault(); step(1); }
    else if (e.key === "Tab") {
      // The focus stays inside the viewer while it is open.
      const stops = [...viewer.querySelectorAll("button:not([hidden])")];
      const at = stops.indexOf(document.activeElement);
      const next = e.shiftKey ? (at <= 0 ? stops.length - 1 : at - 1) : (at + 1) % stops.length;
      stops[next].focus();
      e.preventDefault();
    }
  };

  document.addEventListener("click", (e) => {
    const link = e.target.closest && e.target.closest(PICTURES);
    if (!link || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    cameFrom = link;
    if (!viewer) build();
    show(pictures().indexOf(link));
    viewer.querySelector(".viewer-close").focus();
  });
})();
