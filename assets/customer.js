// The site picker of the customer pages: a click on the territory map fills the
// latitude and longitude fields (the inverse of the server's projection).
(function () {
  function ready(fn) { if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); } }
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
})();
