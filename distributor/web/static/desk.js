/* Distributor desk: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  // Forms marked data-confirm ask before they submit (cancel, rotate a key, ...).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // Live sending progress: poll the JSON endpoint and fill the [data-field] elements.
  function startProgress(box) {
    var url = box.getAttribute("data-progress-url");
    var startStatus = box.getAttribute("data-status");
    function tick() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          Object.keys(data).forEach(function (key) {
            box.querySelectorAll('[data-field="' + key + '"]').forEach(function (el) {
              if (el.tagName === "PROGRESS") {
                el.value = Number(data[key]) || 0;
              } else {
                el.textContent = data[key];
              }
            });
          });
          var bar = box.querySelector("progress");
          if (bar && data.total !== undefined) { bar.max = Math.max(1, Number(data.total)); }
          // Any change of state (scheduled -> sending -> sent) shows the page for the new state.
          if (data.status && data.status !== startStatus) {
            window.location.reload();
            return;
          }
          window.setTimeout(tick, 2000);
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-progress-url]").forEach(startProgress);
  });
})();
