// Photo fields: a hidden input[data-zl-photos] holds comma-separated upload keys. This adds a file picker
// (the camera on a phone) that uploads each chosen photo to /uploads at once and records its key, with a
// list of what was attached. Works for fields that htmx swaps in later, too.
(function () {
  "use strict";
  var labels = document.documentElement.lang === "en"
    ? { pick: "Add photos", uploading: "Uploading…", failed: "Upload failed: ", remove: "Remove" }
    : { pick: "添加照片", uploading: "正在上传…", failed: "上传失败：", remove: "移除" };

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; }
    catch (e) { return ""; }
  }

  function keys(field) {
    return field.value ? field.value.split(",").filter(Boolean) : [];
  }

  function enhance(field) {
    if (field.dataset.zlPhotosReady) return;
    field.dataset.zlPhotosReady = "1";
    var picker = document.createElement("input");
    picker.type = "file";
    picker.accept = "image/jpeg,image/png,image/webp,image/heic";
    picker.multiple = true;
    picker.setAttribute("capture", "environment");
    picker.className = "form-control form-control-sm";
    picker.setAttribute("aria-label", labels.pick);
    var list = document.createElement("ul");
    list.className = "list-unstyled small mb-0 mt-1 zl-photo-list";
    field.insertAdjacentElement("afterend", list);
    field.insertAdjacentElement("afterend", picker);

    picker.addEventListener("change", function () {
      Array.prototype.forEach.call(picker.files, function (file) {
        var item = document.createElement("li");
        item.textContent = file.name + " · " + labels.uploading;
        list.appendChild(item);
        var body = new FormData();
        body.append("file", file);
        fetch("/uploads", { method: "POST", body: body, headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" })
          .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
          .then(function (result) {
            if (!result.ok) { item.textContent = file.name + " · " + labels.failed + (result.data.detail || ""); item.className = "text-danger"; return; }
            field.value = keys(field).concat([result.data.key]).join(",");
            item.textContent = "✓ " + result.data.filename + " ";
            var remove = document.createElement("button");
            remove.type = "button"; remove.className = "btn btn-link btn-sm p-0"; remove.textContent = labels.remove;
            remove.addEventListener("click", function () {
              field.value = keys(field).filter(function (k) { return k !== result.data.key; }).join(",");
              item.remove();
            });
            item.appendChild(remove);
          })
          .catch(function () { item.textContent = file.name + " · " + labels.failed; item.className = "text-danger"; });
      });
      picker.value = "";
    });
    // A form that resets after a successful post starts the next report without the old photos.
    var form = field.form;
    if (form) form.addEventListener("reset", function () { field.value = ""; list.innerHTML = ""; });
  }

  function scan(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("input[data-zl-photos]").forEach(enhance);
  }
  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.body.addEventListener("htmx:afterSwap", function (e) { scan(e.target); });
})();
