/* Dashboards.

   One live poll at a time: the interval ticks every few seconds; a poll goes out
   only when the last one answered (or has been pending for long, e.g. the
   connection dropped), not while the tab is hidden, and not before the panels
   below the first screen are drawn (a poll patches what the browser holds).

   The page arrives filled, but draws only its first row of panels at once. The
   panels below the first screen come from the board's `later` store, all
   together (one render, no server call: dash_clientside.set_props) once the
   first screen is drawn: its charts, tables and filters are lazy components,
   and updates made earlier would hold back their first render. When the board
   is refilled meanwhile with other data (the user changed a filter: the
   fingerprint in `known` changes) they are dropped: the newer data is on the
   page already. */
(function () {
  "use strict";
  var FIRST_WAIT_MS = 3000;  // draw the rest anyway after this long
  var pending = null;  // the later panels not drawn yet: {later, print, since}
  var drawn = null;  // the `later` store last drawn

  function next(step) {
    if (document.hidden) {
      setTimeout(step, 0);  // no frames in a hidden tab
    } else {
      requestAnimationFrame(function () { setTimeout(step, 0); });  // after a paint
    }
  }

  function shown(id) {
    var el = document.getElementById(id);
    if (!el) return false;  // a lazy component not rendered yet
    if (el.classList.contains("portal-dash-graph")) return !!el.querySelector(".main-svg");
    if (el.classList.contains("portal-grid")) {  // AG Grid draws its rows a frame later
      return !!el.querySelector(".ag-row, .ag-overlay-no-rows-center");
    }
    return true;
  }

  function drawLater(run) {
    next(function step() {
      if (pending !== run) return;  // refilled, or another page
      if (!document.querySelector('[data-board="' + run.later.board + '"]')) {  // page left
        pending = null;
        return;
      }
      var first = run.later.first || [];
      if (Date.now() - run.since < FIRST_WAIT_MS && !first.every(shown)) {
        next(step);
        return;
      }
      pending = null;
      drawn = run.later;
      run.later.panels.forEach(function (panel) {
        window.dash_clientside.set_props(panel[0], panel[1]);
      });
    });
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    portalLive: {
      gate: function (n, inflight) {
        var NO = window.dash_clientside.no_update;
        var STUCK_MS = 30000;
        var now = Date.now();
        if (document.hidden) return [NO, NO];
        if (pending && now - pending.since < 20000) return [NO, NO];
        if (inflight && now - inflight < STUCK_MS) return [NO, NO];
        return [now, now];
      },
      later: function (later, known) {
        var NO = window.dash_clientside.no_update;
        var print = known && known._print;
        if (pending && pending.print !== print) pending = null;  // refilled meanwhile
        if (!later || !later.panels || later.print !== print) return NO;
        if (drawn === later || (pending && pending.later === later)) return NO;
        pending = {later: later, print: print, since: Date.now()};
        drawLater(pending);
        return print;
      }
    }
  });
})();

/* A dashboard opened by its address starts loading plotly.js at once, while the
   page waits for its layout and its filled panels, instead of when the first
   chart mounts. dcc.Graph takes `window.Plotly` when it is set, and waits on it
   when it is a promise (Promise.resolve adopts it), so the charts neither wait
   for a second download nor run plotly.js twice. Set once the page's scripts ran
   (the zh-CN locale registers itself through window.PlotlyLocales when Plotly is
   not there yet), at the load event, which comes as soon as they did and before
   the page's layout arrives. Other pages load Plotly as before. */
(function () {
  "use strict";
  if (window.location.pathname.indexOf("/dashboards/") === -1) return;

  function prefix() {
    var config = document.getElementById("_dash-config");
    try {
      return (config && JSON.parse(config.textContent).requests_pathname_prefix) || "/";
    } catch (e) {
      return "/";
    }
  }

  function preload() {
    if (window.Plotly || document.querySelector('script[src*="plotly.min.js"]')) return;
    var url = window._dashPlotlyJSURL ||
      prefix() + "_dash-component-suites/plotly/package_data/plotly.min.js";
    var loading = new Promise(function (resolve, reject) {
      (function attempt(left) {
        var script = document.createElement("script");
        script.src = url;
        script.async = true;
        script.onload = function () { resolve(window.Plotly); };
        script.onerror = function (error) {
          script.remove();
          if (left) return attempt(left - 1);
          if (window.Plotly === loading) window.Plotly = undefined;  // dcc.Graph tries itself
          reject(error);
        };
        document.head.appendChild(script);
      })(1);
    });
    loading.catch(function () {});
    window.Plotly = loading;  // replaced by plotly.js itself when it runs
  }

  if (document.readyState === "complete") {
    preload();
  } else {
    window.addEventListener("load", preload);  // not before: it would hold the load event
  }
})();
