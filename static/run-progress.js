// Follows an export run: polls its progress and reloads the page when it ends.
(function () {
  "use strict";
  var box = document.getElementById("run-progress");
  if (!box) { return; }
  var bar = box.querySelector(".progress-bar");
  var phase = document.getElementById("run-phase");
  var count = document.getElementById("run-count");
  var labels = JSON.parse(box.getAttribute("data-phases") || "{}");

  // Counts grouped as the page's language groups them (1,234 / 1 234 / 1.234), as the
  // server writes them.
  function grouped(number) {
    return Number(number).toLocaleString(document.documentElement.lang);
  }

  function show(info) {
    var percent = info.total ? Math.max(5, Math.round(100 * info.done / info.total)) : 5;
    bar.style.width = percent + "%";
    bar.setAttribute("aria-valuenow", String(percent));
    phase.textContent = labels[info.phase] || info.phase;
    count.textContent = info.total ? grouped(info.done) + " / " + grouped(info.total) : "";
  }

  function poll() {
    fetch(box.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (info) {
        if (info.finished) { window.location.reload(); return; }
        show(info);
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
}());
