/* The live command map (一张图) at /command: Leaflet 1.9.4 and ECharts 6.1.0, both vendored.
 *
 * No online tiles unless the deployment configures a tile URL: the selected area's outline and its
 * children (towns, communities or grids) are the base layer on a plain background. Clicking a child
 * drills into it; the trail and "返回上级" go back up; the URL (/command?code=...) follows, so a reload
 * or the browser's back button lands on the same area.
 *
 * The overlays are entries of LAYERS, switched by the checkboxes [data-zl-layer=<name>] of the page.
 * Order changes arrive over /events/stream; each one re-reads that order and moves, recolours, adds or
 * removes its marker, then refreshes the panel (debounced, so a burst of changes costs one request).
 *
 * Hooks for tests: body[data-zl-area] is the area on screen once drawn, body[data-zl-live=open] once the
 * event stream is open; path.zl-area-<code> is a child's shape, .zl-order-marker[data-code] an order.
 */
(function () {
  "use strict";

  var root = document.getElementById("command-root");
  if (!root || !window.L) return;

  // Helpers ----------------------------------------------------------------------------------------

  function jsonAttr(el, name) {
    try { return JSON.parse(el.getAttribute(name) || "null"); } catch (e) { return null; }
  }

  function esc(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function fmt(template, params) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(params, key) ? params[key] : whole;
    });
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  /** "2026-11-24T08:05:00+00:00" as local "11-24 16:05" (or "16:05" with timeOnly); text that is not
   *  a time is shown as it came. */
  function clock(value, timeOnly) {
    if (!value) return "";
    var d = new Date(value);
    if (isNaN(d.getTime())) return String(value);
    var hm = pad(d.getHours()) + ":" + pad(d.getMinutes());
    return timeOnly ? hm : pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + hm;
  }

  function debounce(fn, wait) {
    var timer = null;
    var wrapped = function () {
      clearTimeout(timer);
      timer = setTimeout(fn, wait);
    };
    wrapped.now = function () { clearTimeout(timer); fn(); };
    return wrapped;
  }

  /** fetch() of a same-origin JSON endpoint; a refusal rejects with the HTTP status attached. */
  function getJSON(url, signal) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", signal: signal })
      .then(function (r) {
        if (!r.ok) {
          var err = new Error(r.status + " " + url);
          err.status = r.status;
          throw err;
        }
        return r.json();
      });
  }

  function q(selector) { return root.querySelector(selector); }
  function qa(selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }

  var T = jsonAttr(root, "data-labels") || {};
  var home = jsonAttr(root, "data-root") || {};
  var start = jsonAttr(root, "data-start") || home;
  var tileUrl = root.getAttribute("data-tile-url");
  var mapEl = document.getElementById("command-map");
  var statusEl = q("[data-zl-status]");
  var narrow = window.matchMedia ? window.matchMedia("(max-width: 991.98px)") : { matches: false };

  var COLOURS = { green: "#2f9e5b", yellow: "#e0a526", red: "#d64545", none: "#9aa5b1" };
  // Light enough that names, markers and heat cells stay readable on the darkest.
  var LOAD_FILL = { none: "#ffffff", low: "#e1ecf7", mid: "#bcd3ea", high: "#8cafd6" };
  var HEAT = ["#fff3c4", "#fdd98a", "#f9b062", "#ef7d45", "#d64545"];
  var GONE = { closed: true, cancelled: true };
  var CHART_FONT = window.getComputedStyle(document.body).fontFamily;
  var pageTitle = document.title;

  function say(text, failed) {
    if (!statusEl) return;
    statusEl.hidden = !text;
    statusEl.classList.toggle("zl-failed", !!failed);
    statusEl.firstChild.textContent = text || "";
  }

  // The map and its panes ---------------------------------------------------------------------------

  var map = L.map(mapEl, { zoomSnap: 0.25, zoomControl: false, attributionControl: false });
  L.control.zoom({ position: "bottomright", zoomInTitle: T.zoom_in, zoomOutTitle: T.zoom_out }).addTo(map);
  L.control.scale({ position: "bottomleft", imperial: false }).addTo(map);
  if (tileUrl) {
    L.control.attribution({ prefix: false }).addTo(map);
    L.tileLayer(tileUrl, { maxZoom: 19, attribution: root.getAttribute("data-tile-attribution") || "" }).addTo(map);
  }
  map.setView([30, 115], 4);
  // Bottom to top: the area's outline, its children (overlayPane, 400), the heat cells, the children's
  // names, hot issues, grid workers, then the order markers (markerPane, 600) and the tooltips (650).
  [["zlOutline", 350], ["zlHeat", 420], ["zlLabels", 430], ["zlHot", 440], ["zlWorkers", 460]].forEach(function (p) {
    map.createPane(p[0]).style.zIndex = String(p[1]);
  });

  var outlineLayer = L.layerGroup().addTo(map);
  var areaLayer = L.layerGroup().addTo(map);
  var labelLayer = L.layerGroup().addTo(map);

  var state = {
    code: null,      // the area on screen
    area: null,      // area.json's "area"
    trail: [],
    outline: null,   // GeoJSON Feature or null
    children: [],    // child features
    seq: 0,          // the latest navigation; older answers are dropped
    selected: null,  // the order whose card is open
    clustered: false,
    everOpen: false,
  };
  var childShapes = {}; // child code -> L.Polygon

  // Whether a point lies in the area on screen: its outline if there is one, else its bounding box.
  function inRing(lon, lat, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > lat) !== (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }

  function inPolygon(lon, lat, rings) {
    if (!rings.length || !inRing(lon, lat, rings[0])) return false;
    for (var k = 1; k < rings.length; k++) if (inRing(lon, lat, rings[k])) return false;
    return true;
  }

  function inArea(lon, lat) {
    var g = state.outline && state.outline.geometry;
    if (g && g.type === "Polygon") return inPolygon(lon, lat, g.coordinates);
    if (g && g.type === "MultiPolygon") return g.coordinates.some(function (p) { return inPolygon(lon, lat, p); });
    var b = state.area && state.area.bbox;
    if (b) return lon >= b[0] && lon <= b[2] && lat >= b[1] && lat <= b[3];
    return true;
  }

  // Areas: the outline and the children, shaded by load when that layer is on ------------------------

  function areaStyle(p) {
    var byLoad = LAYERS.load.on;
    return {
      color: "#64748b", weight: 1.2, opacity: 0.95,
      fillColor: byLoad ? LOAD_FILL[p.load] || LOAD_FILL.none : "#ffffff",
      fillOpacity: tileUrl ? (byLoad ? 0.45 : 0.1) : 0.85,
      className: "zl-area zl-area-" + p.code,
    };
  }

  function areaLabel(p) {
    var counts = [fmt(T.open_n, { n: p.open || 0 })];
    if (p.overdue) counts.push("<b>" + esc(fmt(T.overdue_n, { n: p.overdue })) + "</b>");
    return esc(p.name) + "<small>" + counts.join(" · ") + "</small>";
  }

  function areaTip(p) {
    var lines = [esc(p.name), esc(fmt(T.open_n, { n: p.open || 0 })) + " · " + esc(fmt(T.overdue_n, { n: p.overdue || 0 })) +
      " · " + esc(fmt(T.warned_n, { n: p.warned || 0 }))];
    if (p.load) lines.push(esc(fmt(T.load_is, { load: (T.loads || {})[p.load] || p.load })));
    return lines.join("<br>");
  }

  function restyleAreas() {
    Object.keys(childShapes).forEach(function (code) {
      var shape = childShapes[code];
      shape.setStyle(areaStyle(shape.feature.properties));
    });
  }

  function hoverRow(code, on) {
    var row = q('[data-zl-children] tr[data-code="' + code + '"]');
    if (row) row.classList.toggle("zl-hover", on);
  }

  function drawAreas(data, fit) {
    outlineLayer.clearLayers();
    areaLayer.clearLayers();
    labelLayer.clearLayers();
    childShapes = {};
    var children = (data.children && data.children.features) || [];
    state.outline = data.outline || null;
    state.children = children;
    if (data.outline) {
      L.geoJSON(data.outline, {
        pane: "zlOutline", interactive: false,
        style: {
          color: "#334155", weight: 2.2, opacity: 0.9, fillColor: children.length ? "#f3f5f8" : LOAD_FILL.low,
          fillOpacity: tileUrl ? 0.08 : (children.length ? 0.85 : 0.6), className: "zl-outline",
        },
      }).addTo(outlineLayer);
    }
    children.forEach(function (f) {
      var p = f.properties;
      L.geoJSON(f, { style: function () { return areaStyle(p); } }).eachLayer(function (shape) {
        shape.feature = f;
        shape.bindTooltip(areaTip(p), { sticky: true, className: "zl-tip" });
        shape.on("click", function () { go(p.code, "push"); });
        shape.on("mouseover", function () { shape.setStyle({ weight: 2.6, color: "#1f3a5f" }); hoverRow(p.code, true); });
        shape.on("mouseout", function () { shape.setStyle(areaStyle(p)); hoverRow(p.code, false); });
        areaLayer.addLayer(shape);
        childShapes[p.code] = shape;
        L.tooltip({ pane: "zlLabels", permanent: true, direction: "center", className: "zl-area-label", interactive: false })
          .setLatLng(shape.getCenter()).setContent(areaLabel(p)).addTo(labelLayer);
      });
    });
    if (fit) fitArea(data);
    drawChildList(children);
  }

  function fitArea(data) {
    var b = data.area && data.area.bbox;
    var bounds = null;
    if (b) bounds = L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
    else if (outlineLayer.getLayers().length) bounds = L.featureGroup(outlineLayer.getLayers()).getBounds();
    else if (areaLayer.getLayers().length) bounds = L.featureGroup(areaLayer.getLayers()).getBounds();
    if (!bounds || !bounds.isValid()) return;
    // Room for the tools (top left) and, on a wide map, the open layer list (top right).
    var tools = q(".zl-map-tools");
    var top = tools ? tools.offsetTop + tools.offsetHeight + 12 : 24;
    var box = q("[data-zl-layers]");
    var right = mapEl.clientWidth > 700 && box && box.open ? box.offsetWidth + 24 : 16;
    map.fitBounds(bounds, { paddingTopLeft: [16, top], paddingBottomRight: [right, 28], maxZoom: 17, animate: false });
  }

  function drawChildList(children) {
    var card = q("[data-zl-children-card]");
    var body = q("[data-zl-children]");
    card.hidden = !children.length;
    q("[data-zl-children-title]").textContent = state.area && state.area.level === "village" ? T.grids : T.children;
    function cell(n, cls) { return '<td class="text-end ' + (n ? cls : "zl-zero") + '">' + esc(n || 0) + "</td>"; }
    body.innerHTML = children.map(function (f) {
      var p = f.properties;
      return '<tr data-code="' + esc(p.code) + '"><td><button type="button" data-zl-go="' + esc(p.code) + '">' +
        esc(p.name) + "</button></td>" + cell(p.open, "") + cell(p.overdue, "zl-bad") + cell(p.warned, "zl-warn") + "</tr>";
    }).join("");
  }

  // The trail, the title and "返回上级" -------------------------------------------------------------

  function drawTrail(area, trail) {
    var ol = q("[data-zl-trail] ol");
    var items = trail && trail.length ? trail : [area];
    q("[data-zl-trail]").hidden = items.length < 2; // at the top the title says it all
    ol.innerHTML = items.map(function (t, i) {
      if (i === items.length - 1) return '<li class="breadcrumb-item active" aria-current="page">' + esc(t.name) + "</li>";
      return '<li class="breadcrumb-item"><a href="/command?code=' + encodeURIComponent(t.code) + '" data-zl-go="' +
        esc(t.code) + '">' + esc(t.name) + "</a></li>";
    }).join("");
    q("[data-zl-name]").textContent = area.name;
    q("[data-zl-level]").textContent = (T.levels || {})[area.level] || area.level || "";
    var up = q("[data-zl-up]");
    var parent = items.length > 1 ? items[items.length - 2] : null;
    up.disabled = !parent;
    up.setAttribute("data-zl-go", parent ? parent.code : "");
    document.title = area.name + " · " + pageTitle;
  }

  root.addEventListener("click", function (evt) {
    var link = evt.target.closest("[data-zl-go]");
    if (!link || !link.getAttribute("data-zl-go")) return;
    if (evt.ctrlKey || evt.metaKey || evt.shiftKey) return; // a new tab keeps working as a plain link
    evt.preventDefault();
    go(link.getAttribute("data-zl-go"), "push");
  });
  root.addEventListener("mouseover", function (evt) {
    var row = evt.target.closest("[data-zl-children] tr[data-code]");
    var shape = row && childShapes[row.getAttribute("data-code")];
    if (shape) shape.fire("mouseover");
  });
  root.addEventListener("mouseout", function (evt) {
    var row = evt.target.closest("[data-zl-children] tr[data-code]");
    var shape = row && childShapes[row.getAttribute("data-code")];
    if (shape) shape.fire("mouseout");
  });

  // The summary: KPI tiles and two charts -------------------------------------------------------------

  var charts = {};

  function chart(name) {
    if (charts[name] || !window.echarts) return charts[name];
    var el = q('[data-zl-chart="' + name + '"]');
    charts[name] = echarts.init(el, null, { renderer: "canvas" });
    if (window.ResizeObserver) new ResizeObserver(function () { charts[name].resize(); }).observe(el);
    return charts[name];
  }

  var summaryOf = null; // the area whose figures the tiles show

  function kpi(key, value, sub, same) {
    var tile = q('[data-zl-kpi="' + key + '"]');
    if (!tile) return;
    var el = tile.querySelector(".zl-kpi-value");
    var text = String(value);
    if (same && el.textContent !== text) { // a live change, not another area
      tile.classList.remove("zl-changed");
      void tile.offsetWidth; // restart the animation
      tile.classList.add("zl-changed");
    }
    el.textContent = text;
    if (sub !== undefined) {
      var subEl = tile.querySelector("[data-zl-kpi-sub]");
      if (subEl) subEl.textContent = sub;
    }
    if (key === "overdue") tile.classList.toggle("zl-kpi-alert", Number(value) > 0);
  }

  function drawSummary(s) {
    var today = s.today || {};
    var same = summaryOf === s.code;
    summaryOf = s.code;
    kpi("intake", today.intake || 0, undefined, same);
    kpi("closed", today.closed || 0, undefined, same);
    kpi("open", s.open || 0, undefined, same);
    kpi("overdue", s.overdue || 0, undefined, same);
    kpi("warned", s.warned || 0, undefined, same);
    var sat = s.satisfaction || {};
    kpi("satisfaction", sat.rate == null ? "—" : (sat.rate * 100).toFixed(1) + "%",
        sat.rated ? fmt(T.rated, { n: sat.rated }) : T.no_rating, same);
    q("[data-zl-asof]").textContent = s.as_of ? fmt(T.as_of, { t: clock(s.as_of) }) : "";

    var cats = s.top_categories || [];
    var barsEl = q('[data-zl-chart="categories"]');
    barsEl.hidden = !cats.length;
    q('[data-zl-chart-empty="categories"]').hidden = !!cats.length;
    var bars = cats.length && chart("categories");
    if (bars) {
      barsEl.style.height = (28 + 30 * cats.length) + "px"; // a bar's height whatever their number
      bars.resize();
      bars.setOption({
        animation: false,
        textStyle: { fontFamily: CHART_FONT },
        grid: { left: 4, right: 40, top: 6, bottom: 6, containLabel: true },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
        xAxis: { type: "value", show: false, minInterval: 1 },
        yAxis: {
          type: "category", inverse: true, data: cats.map(function (c) { return c.name; }),
          axisTick: { show: false }, axisLine: { show: false },
          axisLabel: { color: "#334155", fontSize: 12, width: 120, overflow: "truncate" },
        },
        series: [{
          type: "bar", data: cats.map(function (c) { return c.count; }), barMaxWidth: 18,
          itemStyle: { color: "#3f7cac", borderRadius: [0, 3, 3, 0] },
          label: { show: true, position: "right", color: "#1e293b", fontWeight: 600 },
        }],
      }, true);
    }

    var trend = s.trend || { days: [], intake: [], closed: [] };
    var line = chart("trend");
    if (line) {
      line.setOption({
        animation: false,
        textStyle: { fontFamily: CHART_FONT },
        color: ["#2d5282", "#2f9e5b"],
        grid: { left: 4, right: 12, top: 30, bottom: 4, containLabel: true },
        legend: { top: 0, right: 4, itemWidth: 16, itemHeight: 8, textStyle: { color: "#475569" } },
        tooltip: { trigger: "axis", confine: true },
        xAxis: {
          type: "category", boundaryGap: false, data: (trend.days || []).map(function (d) { return String(d).slice(5); }),
          axisLine: { lineStyle: { color: "#cbd5e1" } }, axisTick: { show: false },
          axisLabel: { color: "#64748b", hideOverlap: true },
        },
        yAxis: {
          type: "value", minInterval: 1, axisLabel: { color: "#64748b" },
          splitLine: { lineStyle: { color: "#eef2f7" } },
        },
        series: [
          { name: T.intake, type: "line", data: trend.intake || [], smooth: true, showSymbol: false,
            lineStyle: { width: 2 }, areaStyle: { opacity: 0.08 } },
          { name: T.closed, type: "line", data: trend.closed || [], smooth: true, showSymbol: false,
            lineStyle: { width: 2 } },
        ],
      }, true);
    }
  }

  var summarySeq = 0;

  function loadSummary() {
    var seq = ++summarySeq;
    var code = state.code;
    return getJSON("/command/summary.json?code=" + encodeURIComponent(code)).then(function (s) {
      if (seq === summarySeq && code === state.code) drawSummary(s);
    }).catch(function () { /* the tiles keep their last figures; the next change tries again */ });
  }

  // Orders: markers in their deadline colour, or clusters when there are many ---------------------------

  var OrderIcon = L.DivIcon.extend({
    createIcon: function (oldIcon) {
      var el = L.DivIcon.prototype.createIcon.call(this, oldIcon);
      el.setAttribute("data-code", this.options.code);
      el.setAttribute("data-id", String(this.options.id));
      el.setAttribute("role", "button");
      el.setAttribute("aria-label", this.options.label);
      return el;
    },
  });

  var orderMarkers = {}; // order id -> L.Marker

  function orderIcon(o) {
    var size = window.innerWidth >= 1800 ? 20 : 16;
    var selected = state.selected === o.id ? " zl-selected" : "";
    return new OrderIcon({
      className: "zl-order-marker zl-order-" + (o.colour || "none") + selected, html: "<span></span>",
      iconSize: [size, size], iconAnchor: [size / 2, size / 2], code: o.code, id: o.id,
      label: o.code + " " + (o.title || ""),
    });
  }

  function orderTip(o) {
    return "<b>" + esc(o.title || o.code) + "</b><br>" + esc(o.code) + " · " + esc(o.status_label || o.status) +
      (o.colour ? " · " + esc((T.colours || {})[o.colour] || "") : "");
  }

  function placeOrder(group, o) {
    var marker = L.marker([o.lat, o.lon], { icon: orderIcon(o), riseOnHover: true, keyboard: true });
    marker.zlOrder = o;
    marker.bindTooltip(orderTip(o), { className: "zl-tip", direction: "top", offset: [0, -8] });
    marker.on("click", function () { openOrder(o.id); });
    group.addLayer(marker);
    orderMarkers[o.id] = marker;
    return marker;
  }

  function drawOrders(data, group) {
    group.clearLayers();
    orderMarkers = {};
    state.clustered = !!data.clustered;
    var note = q('[data-zl-note="orders"]');
    if (note) {
      note.hidden = !data.clustered;
      note.textContent = data.clustered ? T.clustered : "";
    }
    if (data.clustered) {
      (data.clusters || []).forEach(function (c) {
        var size = Math.round(Math.min(56, 26 + 7 * Math.log(1 + c.count)));
        var icon = L.divIcon({
          className: "zl-cluster" + (c.overdue ? " zl-cluster-overdue" : ""), html: "<span>" + esc(c.count) + "</span>",
          iconSize: [size, size], iconAnchor: [size / 2, size / 2],
        });
        L.marker([c.lat, c.lon], { icon: icon })
          .bindTooltip(esc(fmt(T.cluster, { n: c.count, m: c.overdue || 0 })), { className: "zl-tip", direction: "top" })
          .on("click", function () { map.setView([c.lat, c.lon], Math.min(map.getZoom() + 2, 18)); })
          .addTo(group);
      });
      return;
    }
    (data.orders || []).forEach(function (o) {
      if (o.lon != null && o.lat != null) placeOrder(group, o);
    });
  }

  function flash(marker) {
    var el = marker.getElement && marker.getElement();
    if (!el) return;
    el.classList.remove("zl-flash");
    void el.offsetWidth;
    el.classList.add("zl-flash");
    setTimeout(function () { el.classList.remove("zl-flash"); }, 3200);
  }

  function removeOrder(id) {
    var marker = orderMarkers[id];
    if (marker) LAYERS.orders.group.removeLayer(marker);
    delete orderMarkers[id];
  }

  /** One order as it is now: moved, recoloured, added or (closed, cancelled, elsewhere) removed. */
  function upsertOrder(o) {
    if (GONE[o.status] || o.lon == null || o.lat == null || !inArea(o.lon, o.lat)) {
      removeOrder(o.id);
      return;
    }
    var marker = orderMarkers[o.id];
    if (marker) {
      marker.zlOrder = o;
      marker.setLatLng([o.lat, o.lon]);
      marker.setIcon(orderIcon(o));
      marker.setTooltipContent(orderTip(o));
    } else {
      marker = placeOrder(LAYERS.orders.group, o);
    }
    flash(marker);
  }

  // The order card in the panel ---------------------------------------------------------------------

  var cardEl = q("[data-zl-order-card]");

  function drawOrderCard(o) {
    var colour = o.colour || "none";
    var timeline = (o.timeline || []).map(function (t) {
      return '<li><div class="zl-tl-head"><b>' + esc(t.label) + '</b><span class="zl-tl-meta">' + esc(clock(t.at)) +
        (t.actor ? " · " + esc(t.actor) : "") + "</span></div></li>";
    }).join("");
    cardEl.innerHTML =
      '<div class="zl-card-head"><span class="zl-dot zl-dot-' + esc(colour === "none" ? "none" : colour) + '"></span>' +
      '<h2 class="zl-card-title">' + esc(o.title || o.code) + "</h2>" +
      '<button type="button" class="btn-close ms-auto" data-zl-card-close aria-label="' + esc(T.close) + '"></button></div>' +
      '<div class="zl-card-body">' +
      '<div class="zl-facts mb-2"><span class="zl-code">' + esc(o.code) + '</span><span class="zl-status zl-status-' +
      esc(o.status) + '">' + esc(o.status_label || o.status) + "</span></div>" +
      '<dl class="zl-dl">' +
      "<div><dt>" + esc(T.category) + "</dt><dd>" + esc(o.category || "—") + "</dd></div>" +
      "<div><dt>" + esc(T.department) + "</dt><dd>" + esc(o.department || "—") + "</dd></div>" +
      "<div><dt>" + esc(T.deadline) + "</dt><dd>" + esc((T.colours || {})[colour] || "—") + "</dd></div>" +
      "</dl>" +
      '<div class="zl-form-section mt-0">' + esc(T.timeline) + "</div>" +
      (timeline ? '<div class="zl-tl-scroll"><ol class="zl-timeline">' + timeline + "</ol></div>" : '<p class="text-secondary small">' + esc(T.no_timeline) + "</p>") +
      (o.url ? '<a class="btn btn-sm btn-primary" data-zl-open-order href="' + esc(o.url) + '">' + esc(T.open_order) + " →</a>" : "") +
      "</div>";
    cardEl.setAttribute("data-order", String(o.id));
    cardEl.hidden = false;
  }

  function selectMarker(id) {
    Object.keys(orderMarkers).forEach(function (key) {
      var el = orderMarkers[key].getElement && orderMarkers[key].getElement();
      if (el) el.classList.toggle("zl-selected", String(key) === String(id));
    });
  }

  function openOrder(id) {
    state.selected = id;
    selectMarker(id);
    return getJSON("/command/order/" + encodeURIComponent(id) + ".json").then(function (o) {
      if (state.selected !== id) return;
      drawOrderCard(o);
      var box = cardEl.getBoundingClientRect();
      if (narrow.matches || box.top < 0 || box.bottom > window.innerHeight) {
        cardEl.scrollIntoView({ behavior: "smooth", block: "nearest" });
      }
    }).catch(function () {
      cardEl.innerHTML = '<div class="zl-card-body text-secondary small">' + esc(T.order_gone) + "</div>";
      cardEl.hidden = false;
    });
  }

  function closeCard() {
    state.selected = null;
    selectMarker(null);
    cardEl.hidden = true;
    cardEl.innerHTML = "";
    cardEl.removeAttribute("data-order");
  }

  cardEl.addEventListener("click", function (evt) {
    if (evt.target.closest("[data-zl-card-close]")) closeCard();
  });

  // The other overlays ----------------------------------------------------------------------------------

  function drawHeat(data, group) {
    group.clearLayers();
    var max = data.max || 0;
    (data.cells || []).forEach(function (c) {
      if (!c.boundary || !c.boundary.length) return;
      var step = max ? Math.min(HEAT.length - 1, Math.floor((c.count / max) * HEAT.length - 1e-9)) : 0;
      L.polygon(c.boundary.map(function (p) { return [p[1], p[0]]; }), {
        pane: "zlHeat", interactive: false, color: "#ffffff", weight: 0.6, opacity: 0.8,
        fillColor: HEAT[Math.max(0, step)], fillOpacity: 0.75, className: "zl-heat-cell",
      }).addTo(group);
    });
  }

  function drawHot(data, group) {
    group.clearLayers();
    (data.issues || []).forEach(function (h, i) {
      if (h.lon == null || h.lat == null) return;
      var radius = Math.round(Math.min(34, 9 + 5 * Math.sqrt(h.count || 1)));
      var popup = '<div class="zl-popup"><div class="fw-semibold">' + esc(h.title) + "</div><dl>" +
        "<dt>" + esc(T.hot_count) + "</dt><dd>" + esc(h.count) + "</dd>" +
        "<dt>" + esc(T.hot_heat) + "</dt><dd>" + esc(h.heat != null ? Number(h.heat).toFixed(1) : "—") + "</dd>" +
        (h.place ? "<dt>" + esc(T.hot_place) + "</dt><dd>" + esc(h.place) + "</dd>" : "") +
        (h.keywords && h.keywords.length ? "<dt>" + esc(T.hot_keywords) + "</dt><dd>" + esc(h.keywords.join("、")) + "</dd>" : "") +
        "</dl></div>";
      L.circleMarker([h.lat, h.lon], {
        pane: "zlHot", radius: radius, color: "#c2410c", weight: 2, fillColor: "#ea580c", fillOpacity: 0.16,
        className: "zl-hot-issue",
      }).bindTooltip(esc(h.title), {
        permanent: i < 8, direction: "right", offset: [radius, 0], className: "zl-hot-label",
      }).bindPopup(popup).addTo(group);
    });
  }

  function drawWorkers(data, group) {
    group.clearLayers();
    (data.workers || []).forEach(function (w) {
      if (w.lon == null || w.lat == null) return;
      var ago = w.minutes_ago == null ? clock(w.at)
        : w.minutes_ago < 1 ? T.just_now : fmt(T.minutes_ago, { n: Math.round(w.minutes_ago) });
      L.circleMarker([w.lat, w.lon], {
        pane: "zlWorkers", radius: window.innerWidth >= 1800 ? 7 : 6, color: "#ffffff", weight: 2,
        fillColor: "#6b4fbb", fillOpacity: 1, className: "zl-worker",
      }).bindTooltip("<b>" + esc(w.name) + "</b>" + (w.grid ? "<br>" + esc(w.grid) : "") + "<br>" + esc(ago),
                     { className: "zl-tip", direction: "top" }).addTo(group);
    });
  }

  function viewParams() {
    var b = map.getBounds();
    return "&bbox=" + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (n) { return n.toFixed(5); }).join(",") +
      "&zoom=" + Math.round(map.getZoom());
  }

  function codeParam() { return "?code=" + encodeURIComponent(state.code); }

  /* The overlays. Each entry: url() of its data, draw(data, group), and optionally view: true (refetched
   * when the map moves, with the bbox and zoom), every: ms (refreshed while on), style() instead of data
   * of its own. Later layers (alarms, devices, places) plug in here, with a checkbox
   * [data-zl-layer=<name>] (and a [data-zl-legend=<name>]) in command.html's layer list. */
  var LAYERS = {
    orders: { view: true, draw: drawOrders,
              url: function () { return "/command/orders.json" + codeParam() + viewParams(); } },
    heat: { view: true, draw: drawHeat,
            url: function () { return "/command/heat.json" + codeParam() + "&days=30" + viewParams(); } },
    hot: { every: 300000, draw: drawHot,
           url: function () { return "/command/hot.json" + codeParam() + "&days=7"; } },
    load: { style: restyleAreas },
    workers: { every: 60000, draw: drawWorkers,
               url: function () { return "/command/workers.json" + codeParam(); } },
  };

  function refreshLayer(name) {
    var layer = LAYERS[name];
    if (!layer || !layer.on || !layer.url || !state.code) return Promise.resolve();
    if (layer.abort) layer.abort.abort();
    layer.abort = window.AbortController ? new AbortController() : null;
    var seq = layer.seq = (layer.seq || 0) + 1;
    var code = state.code;
    return getJSON(layer.url(), layer.abort && layer.abort.signal).then(function (data) {
      if (seq !== layer.seq || code !== state.code || !layer.on) return;
      layer.draw(data, layer.group);
      layer.failed = false;
    }).catch(function (err) {
      if (err && err.name === "AbortError") return;
      if (seq === layer.seq && !layer.failed) {
        layer.failed = true;
        var label = q('[data-zl-layer="' + name + '"]');
        say(fmt(T.layer_failed, { name: label ? label.parentNode.textContent.trim() : name }), true);
        setTimeout(function () { say(""); }, 4000);
      }
    });
  }

  function setLayer(name, on) {
    var layer = LAYERS[name];
    if (!layer) return;
    layer.on = on;
    var legend = q('[data-zl-legend="' + name + '"]');
    if (legend) legend.hidden = !on;
    if (layer.style) { layer.style(); return; }
    clearInterval(layer.timer);
    if (on) {
      map.addLayer(layer.group);
      refreshLayer(name);
      if (layer.every) layer.timer = setInterval(function () { refreshLayer(name); }, layer.every);
    } else {
      if (layer.abort) layer.abort.abort();
      map.removeLayer(layer.group);
      layer.group.clearLayers();
      if (name === "orders") orderMarkers = {};
      var note = q('[data-zl-note="' + name + '"]');
      if (note) note.hidden = true;
    }
  }

  var STORE = "zl-command-layers";
  var saved = null;
  try { saved = JSON.parse(window.localStorage.getItem(STORE) || "null"); } catch (e) { saved = null; }
  var boxes = qa("[data-zl-layer]");
  boxes.forEach(function (box) {
    var name = box.getAttribute("data-zl-layer");
    if (!LAYERS[name]) { box.closest(".zl-layer").hidden = true; return; }
    if (saved && Object.prototype.hasOwnProperty.call(saved, name)) box.checked = !!saved[name];
    LAYERS[name].on = box.checked;
    var legend = q('[data-zl-legend="' + name + '"]');
    if (legend) legend.hidden = !box.checked;
    box.addEventListener("change", function () {
      setLayer(name, box.checked);
      var choice = {};
      boxes.forEach(function (b) { choice[b.getAttribute("data-zl-layer")] = b.checked; });
      try { window.localStorage.setItem(STORE, JSON.stringify(choice)); } catch (e) { /* private mode */ }
    });
  });
  Object.keys(LAYERS).forEach(function (name) {
    var layer = LAYERS[name];
    if (layer.style) return;
    layer.group = L.layerGroup();
    if (layer.on) map.addLayer(layer.group); // their data comes with the first area
    if (layer.on && layer.every) layer.timer = setInterval(function () { refreshLayer(name); }, layer.every);
  });

  // Layers that follow the map's view: refetched once it settles.
  var refreshView = debounce(function () {
    Object.keys(LAYERS).forEach(function (name) { if (LAYERS[name].view) refreshLayer(name); });
  }, 350);
  map.on("moveend", refreshView);

  function refreshAllLayers() {
    Object.keys(LAYERS).forEach(function (name) {
      var layer = LAYERS[name];
      if (layer.on && !layer.style && !layer.view) refreshLayer(name);
    });
    refreshView();
  }

  // Navigation ------------------------------------------------------------------------------------------

  function urlFor(code) { return "/command?code=" + encodeURIComponent(code); }

  /** Show area `code`. how: "push" (a new history entry), "replace", or "none" (back/forward). */
  function go(code, how) {
    if (!code) return Promise.resolve();
    var seq = ++state.seq;
    mapEl.setAttribute("data-state", "loading");
    say(T.loading);
    return getJSON("/command/area.json?code=" + encodeURIComponent(code)).then(function (data) {
      if (seq !== state.seq) return;
      var changed = state.code !== data.area.code;
      state.code = data.area.code;
      state.area = data.area;
      state.trail = data.trail || [];
      if (changed) closeCard();
      drawAreas(data, true);
      drawTrail(data.area, state.trail);
      if (how === "push" && changed) history.pushState({ code: state.code }, "", urlFor(state.code));
      else if (how === "replace") history.replaceState({ code: state.code }, "", urlFor(state.code));
      document.body.dataset.zlArea = state.code;
      mapEl.setAttribute("data-state", "ready");
      say("");
      loadSummary();
      refreshAllLayers();
    }).catch(function () {
      if (seq !== state.seq) return;
      mapEl.setAttribute("data-state", "failed");
      say(T.failed, true);
    });
  }

  /** The area on screen again, without moving the map: its children's counts and loads after changes. */
  var refreshArea = debounce(function () {
    var code = state.code;
    var seq = state.seq;
    if (!code) return;
    getJSON("/command/area.json?code=" + encodeURIComponent(code)).then(function (data) {
      if (code === state.code && seq === state.seq) drawAreas(data, false);
    }).catch(function () { /* the next change tries again */ });
  }, 3000);
  var refreshSummary = debounce(loadSummary, 1000);

  window.addEventListener("popstate", function (evt) {
    var code = (evt.state && evt.state.code) || new URLSearchParams(window.location.search).get("code") || start.code;
    go(code, "none");
  });

  // Live updates -------------------------------------------------------------------------------------

  var liveEl = q("[data-zl-live-state]");
  var source = null;
  var openedAt = 0;
  var reconnectTimer = null;

  function liveState(name) {
    document.body.dataset.zlLive = name;
    if (!liveEl) return;
    liveEl.setAttribute("data-zl-live-state", name);
    liveEl.lastElementChild.textContent = name === "open" ? T.live_open : name === "connecting" ? T.live_connecting : T.live_retry;
  }

  function onOrderEvent(message) {
    var data;
    try { data = JSON.parse(message.data); } catch (e) { return; }
    if (!data || data.order_id == null) return;
    var id = data.order_id;
    getJSON("/command/order/" + encodeURIComponent(id) + ".json").then(function (o) {
      if (LAYERS.orders.on) {
        if (state.clustered) refreshView(); else upsertOrder(o);
      }
      if (String(state.selected) === String(o.id)) drawOrderCard(o);
    }).catch(function (err) {
      // No longer readable here (moved to another jurisdiction): it leaves the map.
      if (err && (err.status === 404 || err.status === 403)) removeOrder(id);
    });
    refreshSummary();
    refreshArea();
  }

  function connect() {
    if (!window.EventSource) return;
    clearTimeout(reconnectTimer);
    if (source) source.close();
    openedAt = Date.now();
    liveState(state.everOpen ? "retry" : "connecting");
    source = new EventSource("/events/stream");
    source.addEventListener("open", function () {
      // Changes made while the stream was down were not sent: catch up once it is back.
      if (state.everOpen && state.code) { refreshSummary.now(); refreshArea.now(); refreshAllLayers(); }
      state.everOpen = true;
      liveState("open");
    });
    source.addEventListener("error", function () {
      if (!source || source.readyState === 2) {
        liveState("retry");
        clearTimeout(reconnectTimer);
        reconnectTimer = setTimeout(connect, 5000); // closed for good: start a new one
      } else {
        liveState("retry"); // the browser is reconnecting by itself
      }
    });
    source.addEventListener("order", onOrderEvent);
  }

  // A stream that stays down (a proxy that never answers) is replaced, not waited on forever.
  setInterval(function () {
    if (source && source.readyState !== 1 && Date.now() - openedAt > 20000) connect();
  }, 5000);

  // Full screen (the wall) ---------------------------------------------------------------------------

  var fullBtn = q("[data-zl-fullscreen]");
  if (fullBtn && document.fullscreenEnabled && root.requestFullscreen) {
    fullBtn.hidden = false;
    fullBtn.addEventListener("click", function () {
      if (document.fullscreenElement) document.exitFullscreen();
      else root.requestFullscreen().catch(function () { /* refused by the browser: nothing to do */ });
    });
    document.addEventListener("fullscreenchange", function () {
      fullBtn.textContent = document.fullscreenElement ? T.exit_fullscreen : T.fullscreen;
      setTimeout(function () { map.invalidateSize(); }, 100);
    });
  }

  // Start ------------------------------------------------------------------------------------------------

  var layersBox = q("[data-zl-layers]");
  if (layersBox && narrow.matches) layersBox.open = false; // a phone's map is small: the list waits folded
  map.on("click", function () { if (layersBox && narrow.matches) layersBox.open = false; });

  var first = new URLSearchParams(window.location.search).get("code") || start.code || home.code;
  history.replaceState({ code: first }, "", window.location.href);
  go(first, "none");
  connect();
})();
