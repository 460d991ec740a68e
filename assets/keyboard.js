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


// Ctrl+K (⌘K on a Mac) goes to the search box of the chats.
document.addEventListener("keydown", (event) => {
  if (event.key.toLowerCase() !== "k" || !(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return;
  const marked = document.querySelector('[data-testid="search-input"]');
  const box = marked && (marked.matches("input") ? marked : marked.querySelector("input"));
  if (!box) return;
  event.preventDefault();
  box.focus();
  box.select();
});
