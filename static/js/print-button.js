// "Print" buttons (data-print): shown only when JavaScript runs; without it the page says Ctrl+P / ⌘P.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
