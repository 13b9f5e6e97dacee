/* Idle-session warning: shows the hidden Bootstrap alert shortly before the server ends the session.
   "Stay signed in" posts the keep-alive form in the background; without JavaScript the form never shows
   and the server-side idle limit still applies. No inline script: loaded from static/ under the CSP. */
(function () {
  "use strict";
  var box = document.getElementById("session-warning");
  if (!box) { return; }
  var form = document.getElementById("session-keepalive");
  var text = document.getElementById("session-warning-text");
  var warnAfter = parseInt(box.dataset.warnAfter, 10) * 1000;
  var expireAfter = parseInt(box.dataset.expireAfter, 10) * 1000;
  var warnTimer, expireTimer;

  function schedule() {
    clearTimeout(warnTimer);
    clearTimeout(expireTimer);
    box.hidden = true;
    warnTimer = setTimeout(function () {
      var minutes = Math.round((expireAfter - warnAfter) / 60000);
      text.textContent = "You will be logged out in about " + minutes + " minute" + (minutes === 1 ? "" : "s") +
        " because of inactivity.";
      box.hidden = false;
    }, warnAfter);
    expireTimer = setTimeout(function () {
      text.textContent = "You have been logged out because of inactivity. Reload the page to log in again.";
      form.hidden = true;
    }, expireAfter);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      if (response.ok) { schedule(); } else { window.location.reload(); }
    }).catch(function () { window.location.reload(); });
  });
  schedule();
}());
