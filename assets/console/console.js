// Skyhook console: the only script. It refreshes the live part of a subscription's page (the
// timeline and the delivery log) every few seconds without a reload, and asks before a
// destructive button. Everything else works without it.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (live && live.dataset.live) {
    var status = document.getElementById("live-status");
    var every = 2000;
    // The state the page shows; the server answers 304 while it is still the current one.
    var version = live.dataset.version || "";
    var refresh = function () {
      if (document.hidden) { return setTimeout(refresh, every); }
      fetch(live.dataset.live, {
        credentials: "same-origin",
        headers: { "Accept": "text/html", "If-None-Match": version }
      })
        .then(function (response) {
          // Signed out meanwhile, the key revoked, or the subscription gone: stop.
          if (response.redirected || response.status === 401 || response.status === 404) {
            return null;
          }
          if (response.status === 304) { return ""; }
          if (!response.ok) { throw new Error(String(response.status)); }
          version = response.headers.get("ETag") || "";
          return response.text();
        })
        .then(function (html) {
          if (html === null) { return; }
          if (html !== "") {
            live.innerHTML = html;
            live.dataset.refreshed = String(Date.now());
            if (status) { status.textContent = "Updated at " + new Date().toLocaleTimeString() + "."; }
          }
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
