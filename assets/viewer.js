// A picture or a video in a message opens in a viewer over the page: a picture by its link, a
// video by its "Open in the viewer" button. ← and → (or the viewer's buttons) go through the
// conversation's pictures and videos, Esc or a click outside closes it, and the focus returns to
// where it came from. A picture's link itself still opens the file (a new tab on Ctrl/⌘-click).
(() => {
  const PICTURES = '[data-testid="media-preview"][data-kind="image"]';
  const MEDIA = '[data-testid="media-preview"]';
  const EXPAND = '[data-testid="media-expand"]';
  let viewer = null;
  let shown = -1;
  let cameFrom = null;

  const media = () => [...document.querySelectorAll(MEDIA)];

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
    viewer.dataset.testid = "media-viewer";
    const image = document.createElement("img");
    image.className = "viewer-image";
    image.dataset.testid = "viewer-image";
    const video = document.createElement("video");
    video.className = "viewer-video";
    video.dataset.testid = "viewer-video";
    video.controls = true;
    video.playsInline = true;
    video.preload = "metadata";
    const caption = document.createElement("p");
    caption.className = "viewer-caption";
    caption.dataset.testid = "viewer-caption";
    viewer.append(
      button("Close", "close", "✕", close),
      button("Previous", "previous", "‹", () => step(-1)),
      image,
      video,
      button("Next", "next", "›", () => step(1)),
      caption,
    );
    viewer.addEventListener("click", (e) => { if (e.target === viewer) close(); });
    viewer.addEventListener("keydown", onKey);
    document.body.append(viewer);
  };

  const show = (index) => {
    const all = media();
    if (!all.length) return close();
    shown = (index + all.length) % all.length;
    const item = all[shown];
    const isVideo = item.dataset.kind === "video";
    const image = viewer.querySelector(".viewer-image");
    const video = viewer.querySelector(".viewer-video");
    video.pause();
    image.hidden = isVideo;
    video.hidden = !isVideo;
    let name;
    if (isVideo) {
      name = item.getAttribute("aria-label") || "Video";
      video.poster = item.getAttribute("poster") || "";
      video.src = item.currentSrc || item.getAttribute("src");
      video.setAttribute("aria-label", name);
      image.removeAttribute("src");
    } else {
      const thumb = item.querySelector("img");
      name = thumb ? thumb.alt : "Picture";
      image.src = item.getAttribute("href");
      image.alt = name;
      video.removeAttribute("src");
      video.load(); // lets go of the last video's stream
    }
    viewer.setAttribute("aria-label", isVideo ? "Video" : "Picture");
    viewer.dataset.kind = isVideo ? "video" : "image";
    viewer.querySelector(".viewer-caption").textContent = `${name} · ${shown + 1} / ${all.length}`;
    viewer.querySelector(".viewer-previous").hidden = all.length < 2;
    viewer.querySelector(".viewer-next").hidden = all.length < 2;
  };

  const step = (by) => show(shown + by);

  const close = () => {
    if (!viewer) return;
    viewer.querySelector(".viewer-video").pause();
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
      const stops = [...viewer.querySelectorAll("button:not([hidden]), video:not([hidden])")];
      const at = stops.indexOf(document.activeElement);
      const next = e.shiftKey ? (at <= 0 ? stops.length - 1 : at - 1) : (at + 1) % stops.length;
      stops[next].focus();
      e.preventDefault();
    }
  };

  const open = (item, from) => {
    cameFrom = from;
    if (item.tagName === "VIDEO") item.pause();
    if (!viewer) build();
    show(media().indexOf(item));
    viewer.querySelector(".viewer-close").focus();
  };

  document.addEventListener("click", (e) => {
    if (!e.target.closest) return;
    const expand = e.target.closest(EXPAND);
    if (expand) {
      const video = expand.parentElement && expand.parentElement.querySelector(MEDIA);
      if (video) { e.preventDefault(); open(video, expand); }
      return;
    }
    const link = e.target.closest(PICTURES);
    if (!link || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    open(link, link);
  });
})();
