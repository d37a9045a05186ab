/* Picking a place on a small map (Leaflet 1.9.4, vendored): the hotline form and the grid report.
 *
 * <div data-zl-point-map data-lon="#lon-input" data-lat="#lat-input" data-geojson-url="..."> draws the
 * area's region outlines and grids (no online tiles unless the deployment sets a tile URL); a click
 * puts the marker there and fills the two inputs, typing coordinates moves the marker. A button
 * <button data-zl-locate> in the same form asks the browser for the device's position instead.
 */
(function () {
  "use strict";

  function jsonAttr(el, name) {
    try { return JSON.parse(el.getAttribute(name) || "null"); } catch (e) { return null; }
  }

  function setup(el) {
    var labels = jsonAttr(el, "data-labels") || {};
    var lonInput = document.querySelector(el.getAttribute("data-lon"));
    var latInput = document.querySelector(el.getAttribute("data-lat"));
    var status = el.parentNode.querySelector(".zl-map-status");
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: false });
    var tileUrl = el.getAttribute("data-tile-url");
    if (tileUrl) {
      L.control.attribution({ prefix: false }).addTo(map);
      L.tileLayer(tileUrl, { maxZoom: 19, attribution: el.getAttribute("data-tile-attribution") || "" }).addTo(map);
    }
    map.setView([30, 115], 4);
    var marker = null;

    function say(text) {
      if (!status) return;
      status.hidden = !text;
      status.innerHTML = text ? "<span></span>" : "";
      if (text) status.firstChild.textContent = text;
    }

    function place(lat, lon, fill) {
      var at = L.latLng(lat, lon);
      if (marker) marker.setLatLng(at);
      else marker = L.circleMarker(at, { radius: 8, color: "#c0392b", weight: 3, fillColor: "#e74c3c", fillOpacity: 0.7 }).addTo(map);
      if (fill) {
        lonInput.value = lon.toFixed(6);
        latInput.value = lat.toFixed(6);
      }
      el.setAttribute("data-state", "picked");
      say("");
    }

    map.on("click", function (evt) { place(evt.latlng.lat, evt.latlng.lng, true); });
    [lonInput, latInput].forEach(function (input) {
      if (!input) return;
      input.addEventListener("change", function () {
        var lon = parseFloat(lonInput.value), lat = parseFloat(latInput.value);
        if (isFinite(lon) && isFinite(lat)) { place(lat, lon, false); map.panTo([lat, lon]); }
      });
    });
    var form = el.closest("form");
    if (form) {
      form.addEventListener("reset", function () {
        if (marker) { map.removeLayer(marker); marker = null; }
        say(labels.hint);
      });
      var locate = form.querySelector("[data-zl-locate]");
      if (locate) {
        locate.addEventListener("click", function () {
          if (!navigator.geolocation) { say(labels.denied); return; }
          say(labels.locating);
          navigator.geolocation.getCurrentPosition(function (pos) {
            place(pos.coords.latitude, pos.coords.longitude, true);
            map.setView([pos.coords.latitude, pos.coords.longitude], 16);
          }, function () { say(labels.denied); }, { enableHighAccuracy: true, timeout: 10000 });
        });
      }
    }

    function draw(collection) {
      var features = (collection && collection.features) || [];
      var layer = L.geoJSON(features, {
        interactive: false,
        style: function (f) {
          return f.properties.layer === "grid"
            ? { color: "#3f7cac", weight: 1, fillColor: "#3f7cac", fillOpacity: 0.12 }
            : { color: "#7b8794", weight: 1.5, dashArray: "4 3", fillColor: "#ffffff", fillOpacity: 0.6 };
        },
      }).addTo(map);
      if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [8, 8] });
      el.setAttribute("data-state", "ready");
      say(labels.hint);
    }

    say(labels.loading);
    fetch(el.getAttribute("data-geojson-url"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(draw)
      .catch(function () { el.setAttribute("data-state", "failed"); say(labels.failed); });
  }

  document.querySelectorAll("[data-zl-point-map]").forEach(setup);
})();
