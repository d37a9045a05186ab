/* The citizen appeal form (/public/appeal): a searchable category list, a small map to pick the place
 * (county outlines from /public/area.geojson on a plain background: no online tiles), "use my location",
 * and photos shrunk in the browser before upload so that a phone's pictures fit the upload limit.
 * Everything here is optional: without JavaScript the form still posts (address only, photos as taken).
 */
(function () {
  "use strict";

  var form = document.getElementById("zl-appeal-form");
  if (!form) return;

  // Category filter: hide options (and empty groups) that do not contain the typed text.
  var search = form.querySelector("[data-zl-filter]");
  var select = search && document.querySelector(search.getAttribute("data-zl-filter"));
  if (search && select) {
    search.addEventListener("input", function () {
      var text = search.value.trim().toLowerCase();
      var firstMatch = null;
      select.querySelectorAll("optgroup").forEach(function (group) {
        var any = false;
        group.querySelectorAll("option").forEach(function (opt) {
          var hit = !text || opt.textContent.toLowerCase().indexOf(text) >= 0 ||
            group.label.toLowerCase().indexOf(text) >= 0;
          opt.hidden = !hit;
          opt.disabled = !hit;
          if (hit) { any = true; if (!firstMatch) firstMatch = opt; }
        });
        group.hidden = !any;
      });
      if (text && firstMatch && (select.selectedIndex < 0 || select.options[select.selectedIndex].hidden ||
          !select.value)) {
        select.value = firstMatch.value;
      }
    });
  }

  // The place: a click on the map, or the device's position.
  var lon = form.querySelector("input[name=lon]");
  var lat = form.querySelector("input[name=lat]");
  var status = form.querySelector("[data-zl-point-status]");
  var clear = form.querySelector("[data-zl-clear-point]");
  var mapEl = document.getElementById("zl-pick-map");
  var map = null, marker = null, area = null;

  function say(key, extra) {
    status.textContent = status.getAttribute("data-" + key) + (extra ? " " + extra : "");
  }

  function setPoint(latlng) {
    if (area && area.getLayers().length && !area.getBounds().pad(0.02).contains(latlng)) {
      say("outside");
      return;
    }
    lon.value = latlng.lng.toFixed(6);
    lat.value = latlng.lat.toFixed(6);
    say("picked", lon.value + ", " + lat.value);
    clear.hidden = false;
    if (map) {
      if (marker) marker.setLatLng(latlng); else marker = L.circleMarker(latlng, {
        radius: 8, color: "#c0392b", weight: 2, fillColor: "#e74c3c", fillOpacity: 0.8 }).addTo(map);
      map.panTo(latlng);
    }
  }

  if (mapEl && window.L) {
    map = L.map(mapEl, { attributionControl: false, zoomSnap: 0.25 }).setView([30, 115], 4);
    area = L.geoJSON(null, {
      style: function (f) {
        var outer = f.properties.level !== "town";
        return { color: outer ? "#1f3a5f" : "#8795a8", weight: outer ? 2 : 1, dashArray: outer ? null : "4 3",
                 fillColor: "#ffffff", fillOpacity: outer ? 0.6 : 0, interactive: false };
      },
    }).addTo(map);
    fetch(mapEl.getAttribute("data-geojson-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || !data.features.length) return;
        area.addData(data);
        // Frame the towns (where people live and the grids are), not the whole city around them.
        var towns = L.geoJSON({ type: "FeatureCollection", features: data.features.filter(function (f) {
          return f.properties.level === "town"; }) });
        var frame = towns.getLayers().length ? towns.getBounds() : area.getBounds();
        map.fitBounds(frame, { padding: [6, 6] });
        if (lon.value && lat.value) setPoint(L.latLng(+lat.value, +lon.value));
      })
      .catch(function () { /* the map is optional */ });
    map.on("click", function (e) { setPoint(e.latlng); });
  }

  form.querySelector("[data-zl-locate]").addEventListener("click", function () {
    if (!navigator.geolocation) { say("failed"); return; }
    say("locating");
    navigator.geolocation.getCurrentPosition(function (pos) {
      setPoint(L.latLng(pos.coords.latitude, pos.coords.longitude));
      if (map) map.setView([pos.coords.latitude, pos.coords.longitude], Math.max(map.getZoom(), 14));
    }, function () { say("failed"); }, { enableHighAccuracy: true, timeout: 10000 });
  });

  clear.addEventListener("click", function () {
    lon.value = ""; lat.value = "";
    if (marker) { map.removeLayer(marker); marker = null; }
    clear.hidden = true;
    say("none");
  });

  // Photos: at most N, each re-encoded as a JPEG of at most 1600 px (HEIC, which browsers cannot draw,
  // goes as it is).
  var photos = form.querySelector("input[name=photos]");
  var MAX_SIDE = 1600;

  function shrink(file) {
    return new Promise(function (resolve) {
      if (!/^image\/(jpeg|png|webp)$/.test(file.type) || !window.createImageBitmap) { resolve(file); return; }
      createImageBitmap(file).then(function (bitmap) {
        var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
        if (scale === 1 && file.size < 800 * 1024) { resolve(file); return; }
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(bitmap.width * scale);
        canvas.height = Math.round(bitmap.height * scale);
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) {
          if (!blob) { resolve(file); return; }
          resolve(new File([blob], file.name.replace(/\.\w+$/, "") + ".jpg", { type: "image/jpeg" }));
        }, "image/jpeg", 0.82);
      }).catch(function () { resolve(file); });
    });
  }

  var button = form.querySelector("[data-zl-submit]");
  var ready = false;
  var label = button.textContent;
  form.addEventListener("submit", function (evt) {
    if (ready) return;
    evt.preventDefault();
    button.disabled = true;
    button.textContent = button.getAttribute("data-busy");
    var files = Array.prototype.slice.call(photos.files || []);
    Promise.all(files.map(shrink)).then(function (shrunk) {
      if (shrunk.length && window.DataTransfer) {
        var dt = new DataTransfer();
        shrunk.forEach(function (f) { dt.items.add(f); });
        photos.files = dt.files;
      }
      ready = true;
      form.submit();
    });
  });
  // Coming back to the page (the back button) must give a usable button again.
  window.addEventListener("pageshow", function () {
    ready = false;
    button.disabled = false;
    button.textContent = label;
  });
})();
