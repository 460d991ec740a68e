// Arrow keys move between the models of the picker (and from its search box into the list).
document.addEventListener("keydown", (event) => {
  if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
  const active = document.activeElement;
  const inPicker = active && (active.dataset.testid === "model-option" || active.dataset.testid === "model-search");
  if (!inPicker) return;
  const options = [...document.querySelectorAll('[data-testid="model-option"]:not([disabled])')];
  if (!options.length) return;
  const index = options.indexOf(active);
  const next = event.key === "ArrowDown"
    ? options[Math.min(index + 1, options.length - 1)]
    : index <= 0 ? document.querySelector('[data-testid="model-search"]') : options[index - 1];
  if (next) { next.focus(); event.preventDefault(); }
});


// Ctrl+K (⌘K on a Mac) opens the command palette where the page has one, else goes to the
// search box of the chats.
document.addEventListener("keydown", (event) => {
  if (event.key.toLowerCase() !== "k" || !(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return;
  const palette = document.querySelector('[data-testid="palette-button"]');
  const marked = document.querySelector('[data-testid="search-input"]');
  const box = marked && (marked.matches("input") ? marked : marked.querySelector("input"));
  if (!palette && !box) return;
  event.preventDefault();
  if (palette) { palette.click(); return; }
  box.focus();
  box.select();
});

// In the palette, arrow keys move from its search box through its choices (Enter takes one).
document.addEventListener("keydown", (event) => {
  if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
  const palette = document.querySelector('[data-testid="command-palette"]');
  if (!palette || !palette.contains(document.activeElement)) return;
  const items = [...palette.querySelectorAll("[data-palette-item]")];
  if (!items.length) return;
  const index = items.indexOf(document.activeElement);
  const input = palette.querySelector('[data-testid="palette-input"]');
  const field = input && (input.matches("input") ? input : input.querySelector("input"));
  const next = event.key === "ArrowDown"
    ? items[Math.min(index + 1, items.length - 1)]
    : index <= 0 ? field : items[index - 1];
  if (next) { next.focus(); event.preventDefault(); }
});

// The chat's own shortcuts (listed in the shortcuts dialog, components/shortcuts.py).
(() => {
  const typing = (el) =>
    el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  const click = (testid) => {
    const el = document.querySelector(`[data-testid="${testid}"]`);
    if (el && !el.disabled) { el.click(); return true; }
    return false;
  };
  document.addEventListener("keydown", (event) => {
    const mod = event.ctrlKey || event.metaKey;
    if (mod && !event.altKey && event.shiftKey && event.key.toLowerCase() === "o") {
      if (click("new-chat")) event.preventDefault();
      return;
    }
    if (mod && !event.altKey && (event.key === "/" || event.code === "Slash")) {
      if (click("shortcuts-button")) event.preventDefault();
      return;
    }
    if (event.key === "/" && !mod && !event.altKey && !typing(document.activeElement)) {
      const composer = document.getElementById("composer");
      if (composer) { composer.focus(); event.preventDefault(); }
      return;
    }
    // Esc closes an open dialog first (the dialog's own), then stops a reply being written.
    if (event.key === "Escape" && !document.querySelector('[role="dialog"], [role="menu"]')) {
      click("stop-button");
    }
  });
})();
