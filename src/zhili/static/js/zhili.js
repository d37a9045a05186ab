/* Behaviour shared by every page: where htmx errors go, which fields they mark, copy buttons. */
(function () {
  "use strict";

  // A 4xx answer (already rendered as an error fragment by the server) goes to the nearest
  // [data-zl-errors="#selector"] container instead of replacing, say, a table row.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var status = evt.detail.xhr.status;
    if (status < 400) return;
    var elt = evt.detail.requestConfig && evt.detail.requestConfig.elt;
    var holder = elt && elt.closest("[data-zl-errors]");
    if (!holder) return;
    var target = document.querySelector(holder.getAttribute("data-zl-errors"));
    if (target) {
      evt.detail.target = target;
      evt.detail.swapOverride = "innerHTML";
    }
  });

  function formOf(elt) {
    if (!elt) return null;
    return elt.tagName === "FORM" ? elt : elt.closest("form");
  }

  // Before a form is sent again, forget the fields marked by its last refusal.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var holder = evt.detail.elt.closest && evt.detail.elt.closest("[data-zl-errors]");
    var errors = holder && document.querySelector(holder.getAttribute("data-zl-errors"));
    if (errors && evt.detail.requestConfig.verb !== "get") errors.innerHTML = "";
    var form = formOf(evt.detail.elt);
    if (!form) return;
    form.querySelectorAll(".is-invalid").forEach(function (el) { el.classList.remove("is-invalid"); });
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = formOf(evt.detail.elt);
    var status = evt.detail.xhr ? evt.detail.xhr.status : 0;
    if (!form) return;
    if (status >= 200 && status < 300 && form.hasAttribute("data-zl-reset")) {
      form.reset();
    }
  });

  // Problems in an error fragment name their field: mark that input of the form that was sent.
  document.addEventListener("htmx:afterSwap", function (evt) {
    var status = evt.detail.xhr ? evt.detail.xhr.status : 0;
    if (status < 400) return;
    var form = formOf(evt.detail.requestConfig && evt.detail.requestConfig.elt);
    if (!form) return;
    evt.detail.target.querySelectorAll("[data-zl-field]").forEach(function (item) {
      var name = item.getAttribute("data-zl-field");
      form.querySelectorAll('[name="' + name + '"]').forEach(function (input) {
        if (input.type !== "hidden") input.classList.add("is-invalid");
      });
    });
  });

  document.addEventListener("input", function (evt) {
    if (evt.target.classList && evt.target.classList.contains("is-invalid")) {
      evt.target.classList.remove("is-invalid");
    }
  });

  // Copy buttons: <button data-zl-copy="#input-id">. The clipboard API needs a secure context,
  // so fall back to selecting the text and the old copy command.
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("[data-zl-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-zl-copy"));
    if (!source) return;
    var done = function () {
      var original = button.getAttribute("data-zl-label") || button.textContent;
      button.setAttribute("data-zl-label", original);
      button.textContent = button.getAttribute("data-zl-copied") || "✓";
      setTimeout(function () { button.textContent = original; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(done);
    } else {
      source.select();
      document.execCommand("copy");
      done();
    }
  });

  // <select data-zl-navigate> inside a GET form: choosing an option loads the page for it.
  document.addEventListener("change", function (evt) {
    if (evt.target.matches && evt.target.matches("select[data-zl-navigate]") && evt.target.value) {
      evt.target.form.submit();
    }
  });
})();
