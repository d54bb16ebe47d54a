// The customer pages (/service): the site picker, the application's class and documents, the
// documents form of a case. Handlers are attached here, never inline (the pages' CSP).
(function () {
  function ready(fn) { if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); } }

  // The site picker: a click on the territory map fills the latitude and longitude fields
  // (the inverse of the server's projection).
  ready(function () {
    var map = document.getElementById("site-map");
    if (!map) { return; }
    var lat = document.getElementById("lat"), lon = document.getElementById("lon");
    var marker = document.getElementById("site-marker");
    var lon0 = parseFloat(map.dataset.lon0), lat1 = parseFloat(map.dataset.lat1);
    var kx = parseFloat(map.dataset.kx), scale = parseFloat(map.dataset.scale);
    function place() {
      var la = parseFloat(lat.value), lo = parseFloat(lon.value);
      if (isNaN(la) || isNaN(lo)) { return; }
      marker.setAttribute("cx", (lo - lon0) * kx * scale);
      marker.setAttribute("cy", (lat1 - la) * scale);
    }
    map.addEventListener("click", function (ev) {
      var pt = map.createSVGPoint();
      pt.x = ev.clientX; pt.y = ev.clientY;
      var p = pt.matrixTransform(map.getScreenCTM().inverse());
      lon.value = (p.x / (kx * scale) + lon0).toFixed(6);
      lat.value = (lat1 - p.y / scale).toFixed(6);
      place();
    });
    lat.addEventListener("change", place);
    lon.addEventListener("change", place);
    var button = document.getElementById("use-location");
    if (button && navigator.geolocation) {
      button.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(function (pos) {
          lat.value = pos.coords.latitude.toFixed(6);
          lon.value = pos.coords.longitude.toFixed(6);
          place();
        });
      });
    } else if (button) { button.disabled = true; }
    place();
  });

  // The class the entries lead to (the server decides the same way, StageBook.classify) and
  // the documents it needs; without JavaScript the notes next to each document say it.
  ready(function () {
    var form = document.getElementById("apply-form");
    if (!form) { return; }
    var d = form.dataset, names = JSON.parse(d.classNames || "{}");
    var lvMax = parseFloat(d.lvMax), smallMax = parseFloat(d.smallMax);
    var result = document.getElementById("class-result");
    function decided() {
      var type = form.querySelector("input[name=customer_type]:checked");
      var load = parseFloat(form.elements.load_kw.value);
      if (!type || !(load > 0)) { return ""; }
      if (load > lvMax) { return d.hvClass; }
      if (type.value === "resident") { return "lv_resident"; }
      if (form.elements.small_firm.checked && load <= smallMax) { return "lv_small_firm"; }
      return "lv_non_resident";
    }
    function update() {
      var klass = decided();
      result.textContent = klass ? d.classText.replace("{name}", names[klass] || klass) : "";
      document.querySelectorAll("[data-required-for]").forEach(function (el) {
        var needed = !!klass && (" " + el.dataset.requiredFor).indexOf(" " + klass + " ") >= 0;
        el.querySelector(".doc-needed").hidden = !needed;
      });
    }
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  });

  // The documents form of a case page: the file field is named after the chosen kind.
  ready(function () {
    var kind = document.getElementById("doc-kind");
    var file = kind && document.getElementById(kind.dataset.fileInput);
    if (!file) { return; }
    kind.addEventListener("change", function () { file.name = "doc_" + kind.value; });
  });
})();
