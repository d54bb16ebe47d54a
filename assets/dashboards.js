/* Dashboards: one live poll at a time. The interval ticks every few seconds; a
   poll goes out only when the last one answered (or has been pending for long,
   e.g. the connection dropped), and not while the tab is hidden. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  portalLive: {
    gate: function (n, inflight) {
      var NO = window.dash_clientside.no_update;
      var STUCK_MS = 30000;
      var now = Date.now();
      if (document.hidden) return [NO, NO];
      if (inflight && now - inflight < STUCK_MS) return [NO, NO];
      return [now, now];
    }
  }
});
