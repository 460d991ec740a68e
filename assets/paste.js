// Files pasted or dropped onto the message box are attached, as if picked with the attach button:
// they go to that button's own file input, so the same streamed upload and checks apply.
(() => {
  const attach = (files) => {
    const input = document.querySelector('[data-testid="file-input"]');
    if (!input || input.disabled || !files || !files.length) return false;
    const transfer = new DataTransfer();
    for (const file of files) transfer.items.add(file);
    input.files = transfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  };
  const inComposer = (event) => event.target && event.target.closest && event.target.closest("#composer");
  document.addEventListener("paste", (event) => {
    if (!inComposer(event)) return;
    const files = [...(event.clipboardData?.files || [])];
    if (files.length && attach(files)) event.preventDefault();  // text pastes are left alone
  });
  document.addEventListener("dragover", (event) => {
    if (inComposer(event) && event.dataTransfer?.types?.includes("Files")) event.preventDefault();
  });
  document.addEventListener("drop", (event) => {
    if (!inComposer(event)) return;
    if (attach([...(event.dataTransfer?.files || [])])) event.preventDefault();
  });
})();
