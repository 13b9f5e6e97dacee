/* Print buttons: a button with data-print opens the browser's print dialog. Hidden without JavaScript (the
   browser's own Print still works); no inline script, so it loads from static/ under the CSP. */
(function () {
  "use strict";
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
