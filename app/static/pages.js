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
