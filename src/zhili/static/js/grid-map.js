/* Grid maps (Leaflet 1.9.4, vendored). No online tiles unless the deployment configures a tile URL:
 * the region outlines are the base layer on a plain background, the grids are drawn over them.
 *
 * <div data-zl-map data-geojson-url="..."> loads a FeatureCollection whose features carry
 * properties.layer = "region" | "grid"; <div data-zl-map data-geojson='{...}'> draws inline data.
 * The page's grid table rows (tr[data-grid-code]) zoom the map to their grid when clicked.
 */
(function () {
  "use strict";

  var COLORS = { basic: "#3f7cac", special: "#c8843a" };
  var DEPTH = { city: 0, county: 1, town: 2, village: 3 };

  function esc(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function jsonAttr(el, name) {
    try { return JSON.parse(el.getAttribute(name) || "null"); } catch (e) { return null; }
  }

  function gridStyle(feature) {
    var color = COLORS[feature.properties.kind] || COLORS.basic;
    return {
      color: color, weight: 1.5, opacity: 0.9, fillColor: color, fillOpacity: 0.28,
      className: "zl-grid zl-grid-" + (feature.properties.kind || "basic"),
    };
  }

  function setupMap(el) {
    var labels = jsonAttr(el, "data-labels") || {};
    var status = el.parentNode.querySelector(".zl-map-status");
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: false, scrollWheelZoom: true });
    var tileUrl = el.getAttribute("data-tile-url");
    if (tileUrl) {
      L.control.attribution({ prefix: false }).addTo(map);
      L.tileLayer(tileUrl, { maxZoom: 19, attribution: el.getAttribute("data-tile-attribution") || "" }).addTo(map);
    }
    map.setView([30, 115], 4);
    var regionLayer = L.layerGroup().addTo(map);
    var gridLayer = L.layerGroup().addTo(map);
    var byCode = {};

    function say(text) {
      if (!status) return;
      status.hidden = !text;
      status.innerHTML = text ? "<span>" + esc(text) + "</span>" : "";
    }

    function popup(p) {
      var rows = [
        [labels.code, '<span class="zl-code">' + esc(p.code) + "</span>"],
        [labels.kind, esc(labels[p.kind] || p.kind)],
        [labels.community, esc(p.community)],
        [labels.area, esc((p.area_m2 / 1e6).toFixed(2)) + " " + esc(labels.km2)],
        [labels.chief, p.chief ? esc(p.chief) : '<span class="text-secondary">' + esc(labels.none) + "</span>"],
        [labels.workers, p.workers && p.workers.length ? esc(p.workers.join("、"))
          : '<span class="text-secondary">' + esc(labels.none) + "</span>"],
      ];
      return '<div class="zl-popup"><div class="fw-semibold">' + esc(p.name) + "</div><dl>" +
        rows.map(function (r) { return "<dt>" + esc(r[0]) + "</dt><dd>" + r[1] + "</dd>"; }).join("") +
        "</dl>" + (p.url ? '<a href="' + esc(p.url) + '">' + esc(labels.open) + " →</a>" : "") + "</div>";
    }

    function draw(collection) {
      regionLayer.clearLayers();
      gridLayer.clearLayers();
      byCode = {};
      var features = collection.features || [];
      var regions = features.filter(function (f) { return f.properties.layer === "region"; });
      var grids = features.filter(function (f) { return f.properties.layer === "grid"; });
      var top = Math.min.apply(null, regions.map(function (f) { return DEPTH[f.properties.level] || 0; }));
      // Outer regions first, so that the finer outlines are drawn on top of them.
      regions.sort(function (a, b) { return (DEPTH[a.properties.level] || 0) - (DEPTH[b.properties.level] || 0); });
      regions.forEach(function (f) {
        var depth = DEPTH[f.properties.level] || 0;
        var layer = L.geoJSON(f, {
          interactive: false,
          style: {
            color: "#7b8794", weight: depth === top ? 2 : 1, dashArray: depth === top ? null : "4 3",
            fillColor: "#ffffff", fillOpacity: depth === top ? 0.9 : 0, className: "zl-region",
          },
        }).addTo(regionLayer);
        // Name the next level down (the towns of a county, the communities of a town): enough to find
        // one's way without covering the grids with text.
        if (depth === top + 1 && f.properties.name) {
          L.tooltip({ permanent: true, direction: "center", className: "zl-region-label", interactive: false })
            .setLatLng(layer.getBounds().getCenter()).setContent(esc(f.properties.name)).addTo(regionLayer);
        }
      });
      grids.forEach(function (f) {
        var layer = L.geoJSON(f, { style: gridStyle });
        layer.bindTooltip(esc(f.properties.code) + " " + esc(f.properties.name), { sticky: true, className: "zl-tip" });
        layer.bindPopup(popup(f.properties));
        layer.addTo(gridLayer);
        byCode[f.properties.code] = layer;
      });
      var shapes = regionLayer.getLayers().filter(function (l) { return l.getBounds; });
      var all = L.featureGroup(shapes.concat(gridLayer.getLayers()));
      if (all.getLayers().length) map.fitBounds(all.getBounds(), { padding: [16, 16] });
      el.setAttribute("data-grid-count", String(grids.length));
      document.querySelectorAll("[data-zl-grid-total]").forEach(function (n) { n.textContent = grids.length; });
      el.setAttribute("data-state", "ready");
      say(grids.length ? "" : labels.empty);
    }

    function load() {
      var url = el.getAttribute("data-geojson-url");
      if (!url) {
        draw(jsonAttr(el, "data-geojson") || { features: [] });
        return;
      }
      el.setAttribute("data-state", "loading");
      say(labels.loading);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(draw)
        .catch(function () { el.setAttribute("data-state", "failed"); say(labels.failed); });
    }

    function focus(code) {
      var layer = byCode[code];
      if (!layer) return;
      map.fitBounds(layer.getBounds(), { maxZoom: 16, padding: [40, 40] });
      layer.setStyle({ weight: 3.5, fillOpacity: 0.45 });
      setTimeout(function () { layer.resetStyle(); }, 2500);
      layer.openPopup(layer.getBounds().getCenter());
      var box = el.getBoundingClientRect();
      if (box.top < 0 || box.bottom > window.innerHeight) el.scrollIntoView({ behavior: "smooth", block: "center" });
    }

    if (el.hasAttribute("data-geojson-url")) {
      document.addEventListener("click", function (evt) {
        var row = evt.target.closest("tr[data-grid-code]");
        if (!row || evt.target.closest("a, button")) return;
        document.querySelectorAll("tr.zl-selected").forEach(function (r) { r.classList.remove("zl-selected"); });
        row.classList.add("zl-selected");
        focus(row.getAttribute("data-grid-code"));
      });
      // An import (or any other change) announces itself; the map follows.
      document.body.addEventListener("grids-changed", load);
    }
    load();
  }

  document.querySelectorAll("[data-zl-map]").forEach(setupMap);
})();
