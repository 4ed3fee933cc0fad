/* District admin's pages: the gaps map (schools and deserts from the page's GeoJSON) and an
   import job followed until it ends. Settings come from data- attributes; no inline script. */
(function () {
  "use strict";

  function gapMap(el) {
    if (typeof L === "undefined") { return; }
    var map = L.map(el, { keyboard: true }).setView([37.8, -122.27], 11);
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 18, attribution: el.dataset.attribution }).addTo(map);
    }
    fetch(el.dataset.geojson, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        var layer = L.geoJSON(data, {
          pointToLayer: function (feature, latlng) {
            var p = feature.properties;
            var color = p.unmet > 0 ? "#a30000" : p.thin > 0 ? "#c25400" : "#1e4620";
            return L.circleMarker(latlng, { radius: 6, weight: 2, color: color });
          },
          style: function () { return { color: "#5b2a86", weight: 1, fillOpacity: 0.25 }; },
          onEachFeature: function (feature, shape) {
            var p = feature.properties, label = document.createElement("span");
            // text, never HTML: names come from imports
            label.textContent = p.kind === "desert"
              ? el.dataset.desert + ": " + (p.category_name || p.category)
              : p.school_name + " — " + el.dataset.unmet + " " + p.unmet + ", " + el.dataset.thin + " " + p.thin;
            shape.bindPopup(label);
          }
        }).addTo(map);
        var bounds = layer.getBounds();
        if (bounds.isValid()) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 14 }); }
      });
  }

  function follow(el) {
    var timer = window.setInterval(function () {
      fetch(el.dataset.poll, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("job");
          if (!fresh) { return; }
          el.replaceChildren.apply(el, Array.prototype.slice.call(fresh.childNodes));
          if (!fresh.dataset.poll) { window.clearInterval(timer); delete el.dataset.poll; }
        });
    }, 1000);
  }

  var map = document.getElementById("gap-map");
  if (map) { gapMap(map); }
  var job = document.querySelector("#job[data-poll]");
  if (job) { follow(job); }
})();
