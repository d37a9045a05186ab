// Live updates over server-sent events (/events/stream). A change to an order the account may read
// refreshes the notification badge at once, and offers a refresh of the lists on the page instead of
// swapping them under the user's hands (an inline form being filled in would be lost).
(function () {
  "use strict";
  var box = document.getElementById("zl-live");
  if (!box || !window.EventSource) return;
  var count = 0;
  var label = box.querySelector("[data-zl-live-count]");
  var refresh = box.querySelector("button");
  var orderCode = document.body.getAttribute("data-zl-order") || "";

  function show() {
    count += 1;
    label.textContent = box.getAttribute("data-template").replace("{n}", String(count));
    box.hidden = false;
  }

  refresh.addEventListener("click", function () {
    box.hidden = true;
    count = 0;
    if (orderCode || !document.querySelector("[hx-trigger*='orders-changed']")) {
      window.location.reload();
    } else if (window.htmx) {
      htmx.trigger(document.body, "orders-changed");
    }
  });

  var source = new EventSource("/events/stream");
  source.addEventListener("order", function (message) {
    if (window.htmx) htmx.trigger(document.body, "notifications-changed");
    var data = {};
    try { data = JSON.parse(message.data); } catch (e) { return; }
    if (orderCode && data.order && data.order !== orderCode) return; // another order than the one open
    show();
  });
})();
