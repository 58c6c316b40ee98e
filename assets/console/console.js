// Skyhook console: the only script. It refreshes the live part of a subscription's page (the
// timeline and the delivery log) every few seconds without a reload, and asks before a
// destructive button. Everything else works without it.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (live && live.dataset.live) {
    var busy = false;
    var refresh = function () {
      if (busy || document.hidden) return;
      busy = true;
      fetch(live.dataset.live, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          // Signed out meanwhile (or the key revoked): stop, and let a reload show the sign-in.
          if (response.redirected || !response.ok) { clearInterval(timer); return null; }
          return response.text();
        })
        .then(function (html) {
          if (html !== null && html !== live.innerHTML) {
            live.innerHTML = html;
            live.dataset.refreshed = String(Date.now());
          }
        })
        .catch(function () {})
        .then(function () { busy = false; });
    };
    var timer = setInterval(refresh, 2000);
  }
  document.addEventListener("submit", function (event) {
    var question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
