/* The navigation bar: the notification badge shows a count or nothing, never an error page. */
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var target = evt.detail.target;
    if (target && target.id === "zl-notify-badge" && evt.detail.xhr.status >= 300) {
      evt.detail.shouldSwap = false;
    }
  });
})();
