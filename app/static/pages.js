/* PartnerMap pages: the map (Leaflet) reads its settings from data- attributes; no inline script. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var map = L.map(el, { keyboard: true }).setView(
    [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)], 12);
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 18, attribution: el.dataset.attribution }).addTo(map);
  }
  var bounds = [];
  document.querySelectorAll(".result[data-lat]").forEach(function (item) {
    var lat = parseFloat(item.dataset.lat), lon = parseFloat(item.dataset.lon);
    if (isNaN(lat) || isNaN(lon)) { return; }
    var marker = L.circleMarker([lat, lon], { radius: 7, weight: 2 }).addTo(map);
    var label = document.createElement(item.dataset.href ? "a" : "span");
    label.textContent = item.dataset.title || "";  // text, never HTML
    if (item.dataset.href) { label.href = item.dataset.href; }
    marker.bindPopup(label);
    bounds.push([lat, lon]);
  });
  if (bounds.length > 1) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 14 }); }
  if (el.dataset.pin) {
    var pin = null;
    map.on("click", function (event) {
      if (pin) { map.removeLayer(pin); }
      pin = L.circleMarker(event.latlng, { radius: 8 }).addTo(map);
      document.getElementById("f-lat").value = event.latlng.lat.toFixed(5);
      document.getElementById("f-lon").value = event.latlng.lng.toFixed(5);
    });
  }
  if (el.dataset.pick) {
    map.on("click", function (event) {
      var form = document.querySelector("form.search");
      document.getElementById("f-lat").value = event.latlng.lat.toFixed(5);
      document.getElementById("f-lon").value = event.latlng.lng.toFixed(5);
      document.getElementById("f-place").value = "";
      form.submit();
    });
  }
})();
/* A service area drawn on the map: each click adds a corner; the polygon is written to the
   GeoJSON textarea (the form's real field, which works without this script or without tiles). */
(function () {
  "use strict";
  var el = document.getElementById("area-map");
  if (!el || typeof L === "undefined") { return; }
  var field = document.getElementById(el.dataset.target);
  var map = L.map(el, { keyboard: true }).setView(
    [parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)], 11);
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 18, attribution: el.dataset.attribution }).addTo(map);
  }
  var corners = [], shape = null;
  function read() {  // an area already in the field (pasted, or sent back with an error)
    try {
      var g = JSON.parse(field.value);
      if (g && g.type === "Feature") { g = g.geometry; }
      if (g && g.type === "Polygon") {
        return g.coordinates[0].slice(0, -1).map(function (c) { return [c[1], c[0]]; });
      }
    } catch (e) { /* not ours to fix: the server names the field */ }
    return [];
  }
  function draw(write) {
    if (shape) { map.removeLayer(shape); shape = null; }
    if (corners.length) {
      shape = (corners.length > 2 ? L.polygon : L.polyline)(corners, { weight: 2 }).addTo(map);
    }
    if (!write) { return; }
    if (corners.length > 2) {
      var ring = corners.map(function (c) { return [+c[1].toFixed(5), +c[0].toFixed(5)]; });
      ring.push(ring[0]);
      field.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
      var polygon = document.getElementById("area-polygon");
      if (polygon) { polygon.checked = true; }
    } else {
      field.value = "";
    }
  }
  corners = read();
  draw(false);
  if (corners.length > 2) { map.fitBounds(corners, { padding: [20, 20] }); }
  map.on("click", function (event) {
    corners.push([event.latlng.lat, event.latlng.lng]);
    draw(true);
  });
  field.addEventListener("change", function () { corners = read(); draw(false); });
  var tools = document.createElement("p");
  [["undo", function () { corners.pop(); draw(true); }],
   ["clear", function () { corners = []; draw(true); }]].forEach(function (tool) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "area-" + tool[0];
    button.textContent = el.dataset[tool[0]];
    button.addEventListener("click", tool[1]);
    tools.appendChild(button);
    tools.appendChild(document.createTextNode(" "));
  });
  el.parentNode.insertBefore(tools, el.nextSibling);
})();
