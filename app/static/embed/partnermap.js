/* PartnerMap's widget for district portals: <partnermap-search data-key="pmk_…">.
   Plain JavaScript, no build step. Everything lives in a Shadow DOM (the portal's CSS cannot
   reach in, ours cannot leak out); theming through CSS custom properties set on the element:
   --partnermap-accent, --partnermap-bg, --partnermap-fg, --partnermap-font, --partnermap-radius.
   Its two calls are CORS simple requests (text/plain), so a refusal can be read and shown. */
(function () {
  "use strict";
  if (!window.customElements || customElements.get("partnermap-search")) { return; }
  var script = document.currentScript;
  var BASE = new URL(script && script.src ? script.src : "/", location.href).origin;
  var T = {
    en: {
      title: "Find a community partner", need: "Need", grade: "Grade", anyGrade: "Any grade",
      prek: "Pre-K", place: "ZIP code", search: "Search", searching: "Searching…",
      results: "Results", none: "No partner matches this search.", found: "{n} partners found.",
      map: "Map of the {n} results", loading: "Loading…", by: "by",
      unreachable: "PartnerMap could not be reached. Please try again later.",
      refused: "This page ({origin}) is not allowed to use this PartnerMap key. A district " +
        "administrator can add this site to the key's allowed origins.",
      badKey: "This PartnerMap key is unknown or was revoked. Ask the district for a current key.",
      noKey: "The PartnerMap widget needs a key: data-key=\"pmk_…\".",
      invalid: "Please check the search: {detail}", powered: "Search by PartnerMap"
    },
    es: {
      title: "Encuentre un socio comunitario", need: "Necesidad", grade: "Grado",
      anyGrade: "Cualquier grado", prek: "Pre-K", place: "Código postal", search: "Buscar",
      searching: "Buscando…", results: "Resultados",
      none: "Ningún socio coincide con esta búsqueda.", found: "{n} socios encontrados.",
      map: "Mapa de los {n} resultados", loading: "Cargando…", by: "de",
      unreachable: "No se pudo conectar con PartnerMap. Inténtelo de nuevo más tarde.",
      refused: "Esta página ({origin}) no tiene permiso para usar esta clave de PartnerMap. " +
        "Un administrador del distrito puede añadir este sitio a los orígenes permitidos.",
      badKey: "Esta clave de PartnerMap no existe o fue revocada. Pida al distrito una clave vigente.",
      noKey: "El widget de PartnerMap necesita una clave: data-key=\"pmk_…\".",
      invalid: "Revise la búsqueda: {detail}", powered: "Búsqueda de PartnerMap"
    }
  };
  var CSS =
    ":host{display:block;color:var(--partnermap-fg,#1b1b1b);background:var(--partnermap-bg,#fff);" +
    "font-family:var(--partnermap-font,system-ui,sans-serif);font-size:16px;line-height:1.4;" +
    "border:1px solid #c6c6c6;border-radius:var(--partnermap-radius,6px);padding:1rem;max-width:60rem}" +
    "h2{font-size:1.25rem;margin:0 0 .75rem}h3{font-size:1rem;margin:0}" +
    "form{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end}" +
    "form>div{flex:1 1 10rem;min-width:0}label{display:block;font-weight:600;font-size:.9rem}" +
    "select,input{width:100%;box-sizing:border-box}" +
    "select,input,button{font:inherit;padding:.4rem;border:1px solid #767676;" +
    "border-radius:var(--partnermap-radius,6px);max-width:100%}" +
    "button{background:var(--partnermap-accent,#0b5cad);color:#fff;border-color:transparent;cursor:pointer}" +
    ":focus-visible{outline:3px solid var(--partnermap-accent,#0b5cad);outline-offset:2px}" +
    "a{color:var(--partnermap-accent,#0b5cad)}.status{margin:.75rem 0}.alert{color:#a4000f;font-weight:600}" +
    ".body{display:grid;gap:1rem;grid-template-columns:minmax(0,1fr)}" +
    "@media(min-width:48rem){.body.has-map{grid-template-columns:minmax(0,1fr) minmax(0,1fr)}}" +
    "ol{margin:0;padding-left:1.5rem}li{margin:0 0 .75rem}.meta{font-size:.9rem;margin:.1rem 0}" +
    ".reason{margin:.2rem 0 0}" +
    ".map{position:relative;overflow:hidden;height:18rem;background:#e8eef3;border-radius:var(--partnermap-radius,6px)}" +
    ".map img{position:absolute;width:256px;height:256px;max-width:none}" +
    ".pin{position:absolute;transform:translate(-50%,-50%);min-width:1.4rem;height:1.4rem;border-radius:50%;" +
    "background:var(--partnermap-accent,#0b5cad);color:#fff;font-size:.75rem;font-weight:700;" +
    "display:flex;align-items:center;justify-content:center;border:2px solid #fff}" +
    ".here{background:#a4000f}.credit{font-size:.8rem;margin:.5rem 0 0}";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) { node.textContent = text; }  // text, never HTML
    return node;
  }
  function fill(s, values) {
    return s.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
  }
  function call(path, body) {
    return fetch(BASE + "/embed/v1/" + path, {
      method: "POST", mode: "cors", credentials: "omit",
      headers: { "Content-Type": "text/plain" }, body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { status: r.status, data: data };
      });
    });
  }

  /* A static map: OSM-style tiles (when the server names a tile URL) under numbered pins. */
  function project(lat, lon, z) {
    var s = 256 * Math.pow(2, z), r = Math.PI / 180 * Math.max(-85, Math.min(85, lat));
    return [(lon + 180) / 360 * s, (1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * s];
  }
  function drawMap(box, points, tiles, attribution) {
    var w = box.clientWidth || 400, h = box.clientHeight || 288, z = 16, a, b;
    for (; z > 2; z--) {
      var xs = [], ys = [];
      points.forEach(function (p) { var q = project(p.lat, p.lon, z); xs.push(q[0]); ys.push(q[1]); });
      a = [Math.min.apply(0, xs), Math.min.apply(0, ys)];
      b = [Math.max.apply(0, xs), Math.max.apply(0, ys)];
      if (b[0] - a[0] < w - 48 && b[1] - a[1] < h - 48) { break; }
    }
    var x0 = (a[0] + b[0] - w) / 2, y0 = (a[1] + b[1] - h) / 2, n = Math.pow(2, z);
    if (tiles) {
      for (var tx = Math.floor(x0 / 256); tx * 256 < x0 + w; tx++) {
        for (var ty = Math.floor(y0 / 256); ty * 256 < y0 + h; ty++) {
          if (ty < 0 || ty >= n) { continue; }
          var img = el("img", { alt: "", src: tiles.replace("{s}", "a").replace("{z}", z)
            .replace("{x}", ((tx % n) + n) % n).replace("{y}", ty).replace("{r}", "") });
          img.style.left = (tx * 256 - x0) + "px";
          img.style.top = (ty * 256 - y0) + "px";
          box.appendChild(img);
        }
      }
    }
    points.forEach(function (p) {
      var q = project(p.lat, p.lon, z), pin = el("span", { "class": p.label ? "pin" : "pin here" }, p.label || "");
      pin.style.left = (q[0] - x0) + "px";
      pin.style.top = (q[1] - y0) + "px";
      box.appendChild(pin);
    });
    if (tiles && attribution) { box.parentNode.appendChild(el("p", { "class": "credit" }, attribution.replace(/<[^>]*>/g, ""))); }
  }

  function PartnerMapSearch() { return Reflect.construct(HTMLElement, [], PartnerMapSearch); }
  PartnerMapSearch.prototype = Object.create(HTMLElement.prototype);
  PartnerMapSearch.prototype.constructor = PartnerMapSearch;
  Object.setPrototypeOf(PartnerMapSearch, HTMLElement);

  PartnerMapSearch.prototype.connectedCallback = function () {
    if (this.shadowRoot) { return; }
    var host = this, root = this.attachShadow({ mode: "open" });
    var lang = (host.getAttribute("lang") || host.dataset.lang || document.documentElement.lang ||
      navigator.language || "en").slice(0, 2).toLowerCase();
    var t = T[lang] || T.en;
    lang = T[lang] ? lang : "en";
    var key = host.dataset.key || (script && script.dataset.key) || "";
    if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);  // a constructed sheet: allowed by a portal's strict style-src
      root.adoptedStyleSheets = [sheet];
    } else {
      root.appendChild(el("style", {}, CSS));
    }
    var section = el("section", { "aria-labelledby": "pm-title", lang: lang });
    section.appendChild(el("h2", { id: "pm-title" }, t.title));
    var status = el("p", { "class": "status", role: "status", "aria-live": "polite" }, t.loading);
    section.appendChild(status);
    root.appendChild(section);
    function alarm(message) {
      status.textContent = message;
      status.className = "status alert";
      status.setAttribute("role", "alert");
    }
    function failed(reply) {
      if (reply.status === 403) { return alarm(fill(t.refused, { origin: location.origin })); }
      if (reply.status === 401) { return alarm(t.badKey); }
      if (reply.status === 422) { return alarm(fill(t.invalid, { detail: reply.data.detail || "" })); }
      alarm(t.unreachable);
    }
    if (!key) { return alarm(t.noKey); }

    call("hello", { key: key, lang: lang }).then(function (reply) {
      if (reply.status !== 200) { return failed(reply); }
      host._config = reply.data;
      status.textContent = "";
      var form = el("form", { role: "search", "aria-label": t.title });
      function field(label, id, control) {
        var div = el("div");
        div.appendChild(el("label", { "for": id }, label));
        control.id = id;
        div.appendChild(control);
        form.appendChild(div);
        return control;
      }
      var need = field(t.need, "pm-need", el("select", { name: "need", required: "" }));
      reply.data.needs.forEach(function (n) { need.appendChild(el("option", { value: n.code }, n.name)); });
      var grade = field(t.grade, "pm-grade", el("select", { name: "grade" }));
      grade.appendChild(el("option", { value: "" }, t.anyGrade));
      for (var g = -1; g <= 12; g++) {
        grade.appendChild(el("option", { value: g < 0 ? "PK" : g === 0 ? "K" : String(g) },
          g < 0 ? t.prek : g === 0 ? "K" : String(g)));
      }
      var place = field(t.place, "pm-place", el("input", {
        name: "place", type: "text", inputmode: "numeric", autocomplete: "postal-code",
        maxlength: "200", required: "" }));
      form.appendChild(el("button", { type: "submit" }, t.search));
      section.insertBefore(form, status);
      var body = el("div", { "class": "body" });
      section.appendChild(body);
      section.appendChild(el("p", { "class": "credit" })).appendChild(
        el("a", { href: BASE + "/", target: "_blank", rel: "noopener" }, t.powered));
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        status.className = "status";
        status.setAttribute("role", "status");
        status.textContent = t.searching;
        body.textContent = "";
        call("search", { key: key, lang: lang, need: need.value, grade: grade.value || null,
          place: place.value }).then(function (r) {
          if (r.status !== 200) { return failed(r); }
          host.show(body, status, r.data, t);
        }, function () { alarm(t.unreachable); });
      });
      host.dispatchEvent(new CustomEvent("partnermap-ready"));
      // A portal page about one place may preset the search: data-need, data-grade, data-place.
      if (host.dataset.need && host.dataset.place) {
        need.value = host.dataset.need;
        grade.value = host.dataset.grade || "";
        place.value = host.dataset.place;
        form.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    }, function () { alarm(t.unreachable); });
  };

  PartnerMapSearch.prototype.show = function (body, status, data, t) {
    var results = data.results, points = [];
    status.textContent = results.length ? fill(t.found, { n: results.length }) : t.none;
    if (!results.length) { return; }
    var list = el("ol", { "class": "results", "aria-label": t.results });
    results.forEach(function (r, i) {
      var li = el("li", { "class": "result" }), h = el("h3");
      h.appendChild(el("a", { href: BASE + "/offerings/" + r.offering_id, target: "_blank", rel: "noopener" }, r.title));
      li.appendChild(h);
      li.appendChild(el("p", { "class": "meta" }, t.by + " " + r.organization_name +
        (r.distance_km != null ? " · " + r.distance_km.toFixed(1) + " km" : "")));
      if (r.reason) { li.appendChild(el("p", { "class": "reason" }, r.reason)); }
      list.appendChild(li);
      if (r.place) { points.push({ lat: r.place.lat, lon: r.place.lon, label: String(i + 1) }); }
    });
    body.appendChild(list);
    if (data.point) { points.push({ lat: data.point.lat, lon: data.point.lon }); }
    if (points.length) {
      body.className = "body has-map";
      var wrap = el("div"), box = el("div", { "class": "map", role: "img", "aria-label": fill(t.map, { n: results.length }) });
      wrap.appendChild(box);
      body.appendChild(wrap);
      drawMap(box, points, this._config.tiles, this._config.attribution);
    }
    this.dispatchEvent(new CustomEvent("partnermap-results", { detail: { count: results.length } }));
  };

  customElements.define("partnermap-search", PartnerMapSearch);
  // The one-line snippet: a script with data-key and no element places one right after itself.
  if (script && script.dataset.key && !document.querySelector("partnermap-search")) {
    script.parentNode.insertBefore(document.createElement("partnermap-search"), script.nextSibling);
  }
})();
