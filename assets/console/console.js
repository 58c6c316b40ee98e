// Skyhook console: the only script. It refreshes the live part of a subscription's page (the
// timeline and the delivery log) every few seconds without a reload, and asks before a
// destructive button. Everything else works without it.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (live && live.dataset.live) {
    var every = 2000;
    var status = document.getElementById("live-status");
    // The last fragment fetched (the page's own markup is re-serialised, so never compared).
    var last = null;
    var refresh = function () {
      if (document.hidden) { return setTimeout(refresh, every); }
      fetch(live.dataset.live, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          // Signed out meanwhile (or the key revoked): stop; a reload shows the sign-in.
          if (response.redirected || response.status === 401) { return "stop"; }
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.text();
        })
        .then(function (html) {
          if (html === "stop") { return; }
          if (html !== last) {
            live.innerHTML = html;
            live.dataset.refreshed = String(Date.now());
            if (status && last !== null) {
              status.textContent = "Updated at " + new Date().toLocaleTimeString() + ".";
            }
          }
          last = html;
          every = 2000;
          setTimeout(refresh, every);
        })
        .catch(function () {
          // A server error or a dropped connection: try again, less often.
          every = Math.min(every * 2, 30000);
          setTimeout(refresh, every);
        });
    };
    setTimeout(refresh, every);
  }
  document.addEventListener("submit", function (event) {
    var question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
