/* Field work on a phone: the patrol runner, "my position" buttons, retry-safe submission keys, and
 * the small trail maps of the coverage and visit pages (Leaflet 1.9.4, vendored; no online tiles
 * unless the deployment sets one).
 *
 * - <input data-zl-client-key>: a fresh random key on load and after each successful submission, so a
 *   retried post (a weak network, a double tap) is recognised by the server and never saved twice.
 * - <button data-zl-here="#lon,#lat">: fills the two inputs with the device's position.
 * - <div data-zl-patrol>: start / stop. While running, navigator.geolocation.watchPosition adds a point
 *   at most every 15 s or 25 m to the hidden `trail` input (JSON [[lon, lat, iso], …]); the run is kept
 *   in localStorage so that a reload or a lock screen does not lose it.
 * - <div data-zl-trails='[{"points": [[lon, lat], …], "who": …}]' data-boundary='GeoJSON'>: draws them.
 */
(function () {
  "use strict";

  function key() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "k" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }

  function freshKeys(root) {
    (root || document).querySelectorAll("input[data-zl-client-key]").forEach(function (input) { input.value = key(); });
  }
  freshKeys();
  document.body.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.detail.elt && evt.detail.elt.closest && evt.detail.elt.closest("form");
    var status = evt.detail.xhr ? evt.detail.xhr.status : 0;
    if (form && status >= 200 && status < 300) freshKeys(form);
  });

  // Content swapped in (a re-rendered file, a filtered checklist) brings empty key fields: fill them.
  document.body.addEventListener("htmx:afterSwap", function (evt) {
    var root = evt.detail.target || document;
    root.querySelectorAll("input[data-zl-client-key]").forEach(function (input) { if (!input.value) input.value = key(); });
  });

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-zl-here]");
    if (!button) return;
    var targets = button.getAttribute("data-zl-here").split(",");
    var lon = document.querySelector(targets[0]), lat = document.querySelector(targets[1]);
    if (!navigator.geolocation || !lon || !lat) return;
    var label = button.textContent;
    button.disabled = true;
    button.textContent = "…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      lon.value = pos.coords.longitude.toFixed(6);
      lat.value = pos.coords.latitude.toFixed(6);
      button.disabled = false;
      button.textContent = label;
    }, function () {
      button.disabled = false;
      button.textContent = label;
      button.classList.add("btn-outline-danger");
    }, { enableHighAccuracy: true, timeout: 10000 });
  });

  // The patrol runner ------------------------------------------------------------------------------
  var STORE = "zhili-patrol";

  function metres(a, b) {
    var r = 6371000, rad = Math.PI / 180;
    var dLat = (b[1] - a[1]) * rad, dLon = (b[0] - a[0]) * rad;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * r * Math.asin(Math.sqrt(h));
  }

  function setupPatrol(el) {
    var form = el.closest("form");
    var trailInput = form.querySelector("input[name=trail]");
    var startedInput = form.querySelector("input[name=started_at]");
    var startBtn = el.querySelector("[data-zl-patrol-start]");
    var stopBtn = el.querySelector("[data-zl-patrol-stop]");
    var status = el.querySelector("[data-zl-patrol-status]");
    var labels = JSON.parse(el.getAttribute("data-labels") || "{}");
    var run = null, watch = null, ticker = null;

    function save() { try { localStorage.setItem(STORE, JSON.stringify(run)); } catch (e) { /* private mode */ } }
    function load() { try { return JSON.parse(localStorage.getItem(STORE) || "null"); } catch (e) { return null; } }

    function show() {
      if (!run) {
        status.textContent = labels.idle || "";
        startBtn.hidden = false;
        stopBtn.hidden = true;
        return;
      }
      var minutes = Math.floor((Date.now() - Date.parse(run.started)) / 60000);
      status.textContent = (labels.running || "").replace("{m}", minutes).replace("{n}", run.points.length) +
        (run.error ? " · " + labels.denied : "");
      startBtn.hidden = true;
      stopBtn.hidden = false;
      trailInput.value = JSON.stringify(run.points);
      startedInput.value = run.started;
    }

    function follow() {
      if (!navigator.geolocation) { run.error = true; show(); return; }
      watch = navigator.geolocation.watchPosition(function (pos) {
        var point = [+pos.coords.longitude.toFixed(6), +pos.coords.latitude.toFixed(6), new Date().toISOString()];
        var last = run.points[run.points.length - 1];
        if (!last || metres(last, point) >= 25 || Date.parse(point[2]) - Date.parse(last[2]) >= 15000) {
          run.points.push(point);
          if (run.points.length > 2000) run.points.shift();
          run.error = false;
          save();
          show();
        }
      }, function () { run.error = true; show(); }, { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 });
      ticker = setInterval(show, 30000);
    }

    function stop() {
      if (watch !== null && navigator.geolocation) navigator.geolocation.clearWatch(watch);
      if (ticker) clearInterval(ticker);
      watch = ticker = null;
    }

    startBtn.addEventListener("click", function () {
      run = { started: new Date().toISOString(), points: [] };
      save();
      show();
      follow();
    });
    stopBtn.addEventListener("click", function () {
      stop();
      show();
      form.querySelector("textarea[name=seen]").focus();
    });
    form.addEventListener("htmx:afterRequest", function (evt) {
      if (evt.detail.xhr && evt.detail.xhr.status >= 200 && evt.detail.xhr.status < 300) {
        stop();
        run = null;
        try { localStorage.removeItem(STORE); } catch (e) { /* nothing kept */ }
        trailInput.value = "";
        startedInput.value = "";
        form.reset();
        freshKeys(form);
        show();
      }
    });
    run = load();
    if (run) follow();
    show();
  }
  document.querySelectorAll("[data-zl-patrol]").forEach(setupPatrol);

  // Trail maps ------------------------------------------------------------------------------------
  function setupTrails(el) {
    if (!window.L) return;
    var trails = JSON.parse(el.getAttribute("data-zl-trails") || "[]");
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: false });
    var tileUrl = el.getAttribute("data-tile-url");
    if (tileUrl) L.tileLayer(tileUrl, { maxZoom: 19 }).addTo(map);
    var bounds = null;
    var boundary = el.getAttribute("data-boundary");
    if (boundary) {
      try {
        var outline = L.geoJSON(JSON.parse(boundary), { interactive: false,
          style: { color: "#3f7cac", weight: 1.5, fillColor: "#3f7cac", fillOpacity: 0.08 } }).addTo(map);
        bounds = outline.getBounds();
      } catch (e) { /* no outline */ }
    }
    var colours = ["#c0392b", "#2e86de", "#27ae60", "#8e44ad", "#d35400", "#16a085"];
    trails.forEach(function (t, i) {
      var latlngs = (t.points || []).map(function (p) { return [p[1], p[0]]; });
      if (!latlngs.length) return;
      var layer = latlngs.length > 1
        ? L.polyline(latlngs, { color: colours[i % colours.length], weight: 3, opacity: 0.8 })
        : L.circleMarker(latlngs[0], { radius: 5, color: colours[i % colours.length] });
      layer.bindTooltip((t.who || "") + " " + (t.label || "")).addTo(map);
      bounds = bounds ? bounds.extend(layer.getBounds ? layer.getBounds() : L.latLngBounds(latlngs)) : L.latLngBounds(latlngs);
    });
    if (bounds && bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10] });
    else map.setView([29.45, 119.8], 12);
  }
  document.querySelectorAll("[data-zl-trails]").forEach(setupTrails);
})();
