/* Print buttons: an element with data-print opens the browser's print dialog. Hidden without JavaScript (the page
   says Ctrl+P / ⌘P, and the browser's own Print still works); no inline script, so it loads from static/ under the
   CSP. One script for the results table, the handout and the GP letter. */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
