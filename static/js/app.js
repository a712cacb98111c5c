// Small behaviours of the back office (no inline scripts: the CSP allows only 'self').
document.addEventListener("change", (event) => {
  const box = event.target;
  // "Select all" in a table header ticks every row checkbox of that name.
  if (box.matches("input[data-select-all]")) {
    document.querySelectorAll(`input[name="${box.dataset.selectAll}"]`).forEach((row) => {
      row.checked = box.checked;
    });
  }
  // New request: show only the document fields of the chosen kind.
  if (box.matches("input[name='kind']")) {
    showDocumentsFor(box.value);
  }
});

function showDocumentsFor(kind) {
  document.querySelectorAll("[data-doc-kind]").forEach((row) => {
    row.hidden = row.dataset.docKind !== kind;
  });
  const none = document.querySelector("[data-doc-none]");
  if (none) {
    none.hidden = Boolean(document.querySelector(`[data-doc-kind="${kind}"]`));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const chosen = document.querySelector("input[name='kind']:checked");
  if (chosen) showDocumentsFor(chosen.value);
});
