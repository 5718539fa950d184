// Shows the print buttons of a card page (they need JavaScript) and prints on click.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
