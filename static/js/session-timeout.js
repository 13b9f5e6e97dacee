/* Idle-session limit in the browser: shows the hidden Bootstrap alert shortly before the server ends the
   session, and when the limit passes takes the page content off the screen and goes to the log-in page
   (with ?next= back to this page), so patient data does not stay on an unattended screen.
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
  var loginUrl = box.dataset.loginUrl;
  var warnTimer, expireTimer, deadline;

  function logInAgainUrl() {
    var here = window.location.pathname + window.location.search;
    if (!loginUrl) { return here; } // the server sends an expired session to the log-in page itself
    return loginUrl + "?" + new URLSearchParams({ next: here }).toString();
  }

  function signedOut() {
    clearTimeout(warnTimer);
    clearTimeout(expireTimer);
    var target = logInAgainUrl();
    // Clear first: the log-in page may take a while to load (or not load at all if the network is gone).
    var main = document.createElement("main");
    main.className = "container-lg py-4";
    var note = document.createElement("p");
    note.textContent = "You have been logged out because of inactivity. ";
    var link = document.createElement("a");
    link.href = target;
    link.textContent = "Log in again";
    note.appendChild(link);
    main.appendChild(note);
    document.title = "Logged out · JAK Portal";
    document.body.replaceChildren(main);
    window.location.replace(target); // replace: Back does not return to the cleared page
  }

  function checkDeadline() {
    // Timers of hidden tabs and sleeping laptops run late; check the clock whenever the page is seen again.
    if (deadline && Date.now() >= deadline) { signedOut(); }
  }

  function schedule() {
    clearTimeout(warnTimer);
    clearTimeout(expireTimer);
    box.hidden = true;
    deadline = Date.now() + expireAfter;
    warnTimer = setTimeout(function () {
      var minutes = Math.round((expireAfter - warnAfter) / 60000);
      text.textContent = "You will be logged out in about " + minutes + " minute" + (minutes === 1 ? "" : "s") +
        " because of inactivity.";
      box.hidden = false;
    }, warnAfter);
    expireTimer = setTimeout(signedOut, expireAfter);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      // The keep-alive answers JSON. An ended session is redirected to the log-in page instead, which fetch
      // follows (200, HTML): that is not "still signed in".
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (response.ok && json) {
        schedule();
      } else if (response.ok) {
        signedOut();
      } else {
        window.location.reload();
      }
    }).catch(function () { window.location.reload(); });
  });
  document.addEventListener("visibilitychange", checkDeadline);
  window.addEventListener("focus", checkDeadline);
  window.addEventListener("pageshow", checkDeadline);
  schedule();
}());
