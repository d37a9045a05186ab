/* The closed-loop screens: the queue's check boxes for bulk dispatch, and the filter box of a long select. */
(function () {
  "use strict";

  function countSelected() {
    var n = document.querySelectorAll("input[name=order_ids]:checked").length;
    document.querySelectorAll("[data-zl-selected]").forEach(function (el) { el.textContent = n; });
    var bar = document.getElementById("bulk-bar");
    if (bar) bar.classList.toggle("zl-bulk-active", n > 0);
  }

  document.addEventListener("change", function (evt) {
    var t = evt.target;
    if (t.matches && t.matches("[data-zl-check-all]")) {
      document.querySelectorAll("input[name=order_ids]").forEach(function (box) { box.checked = t.checked; });
    }
    if (t.matches && (t.matches("[data-zl-check-all]") || t.matches("input[name=order_ids]"))) countSelected();
  });
  document.addEventListener("htmx:afterSwap", countSelected);

  // <button data-zl-pick="code"> (the classifier's suggestions on the hotline form): select that category.
  document.addEventListener("click", function (evt) {
    var t = evt.target.closest && evt.target.closest("[data-zl-pick]");
    if (!t) return;
    var select = document.getElementById("appeal-category");
    if (!select) return;
    select.value = t.getAttribute("data-zl-pick");
    select.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // <input data-zl-filter-select="#select">: typing hides the options that do not match.
  document.addEventListener("input", function (evt) {
    var t = evt.target;
    if (!t.matches || !t.matches("[data-zl-filter-select]")) return;
    var select = document.querySelector(t.getAttribute("data-zl-filter-select"));
    if (!select) return;
    var words = t.value.trim().toLowerCase();
    var first = null;
    Array.prototype.forEach.call(select.options, function (opt) {
      var text = (opt.getAttribute("data-search") || opt.textContent).toLowerCase();
      var show = !words || text.indexOf(words) !== -1;
      opt.hidden = !show;
      if (show && !first && opt.value) first = opt;
    });
    if (words && first && (select.selectedIndex < 0 || select.options[select.selectedIndex].hidden)) {
      first.selected = true;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
})();

/* A form whose own fields ask the server as they are typed (the caller's history, similar orders) is
 * cleared only after its POST worked: <form data-zl-reset-after-post>. A reset also shows every option
 * of the selects a filter box had narrowed. */
(function () {
  "use strict";
  document.addEventListener("htmx:afterRequest", function (evt) {
    var elt = evt.detail.elt;
    var status = evt.detail.xhr ? evt.detail.xhr.status : 0;
    if (elt && elt.matches && elt.matches("form[data-zl-reset-after-post]") && evt.detail.requestConfig.verb === "post"
        && status >= 200 && status < 300) {
      elt.reset();
    }
  });
  document.addEventListener("reset", function (evt) {
    evt.target.querySelectorAll("[data-zl-filter-select]").forEach(function (box) {
      var select = document.querySelector(box.getAttribute("data-zl-filter-select"));
      if (select) Array.prototype.forEach.call(select.options, function (opt) { opt.hidden = false; });
    });
  });
})();
