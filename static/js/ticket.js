// Print the ticket as soon as it opens; the link prints again.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelector("[data-print]")?.addEventListener("click", (event) => {
    event.preventDefault();
    window.print();
  });
});
