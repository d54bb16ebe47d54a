// Dispatch board and map helpers: marker shapes, tooltips, and the browser half of the
// live updates (one poll at a time; merge the server's changes into the map, queue and crews).
// Every text shown comes from the server, already translated (the TEXTS store).
(function () {
  'use strict';
  const portal = (window.stationPortal = window.stationPortal || {});
  const NO = () => window.dash_clientside.no_update;
  const STUCK_MS = 15000; // a poll without answer for this long is given up and tried again

  const util = function () { return portal.util; };  // assets/portal_util.js
  const el = function (tag, className, text) { return util().el(tag, className, text); };
  const fill = function (template, values) { return util().fill(template, values); };

  // A short fingerprint of a text (to notice that the crews changed).
  function digest(text) {
    let h = 5381;
    for (let i = 0; i < text.length; i++) h = ((h * 33) ^ text.charCodeAt(i)) >>> 0;
    return h.toString(36);
  }

  portal.board = {
    territoryStyle: function (feature) {
      const colours = {urban: '#1f77b4', rural: '#2ca02c', remote: '#ff7f0e'};
      const colour = colours[(feature.properties || {}).area] || '#1f77b4';
      return {color: colour, weight: 1.5, opacity: 0.8, fillColor: colour, fillOpacity: 0.07};
    },
    orderMarker: function (feature, latlng, context) {
      const p = feature.properties;
      const selected = context && context.hideout && context.hideout.selected === p.id;
      const classes = ['sp-order', 'sp-kind-' + p.k, 'sp-sla-' + (p.paused ? 'no_limit' : p.sla)];
      if (p.free) classes.push('sp-unassigned');
      if (selected) classes.push('sp-selected');
      const icon = L.divIcon({className: classes.join(' '), iconSize: [16, 16], html: ''});
      const urgent = p.sla === 'overdue' ? 600 : p.free ? 400 : 0;
      return L.marker(latlng, {icon: icon, title: p.code, zIndexOffset: urgent + (selected ? 1000 : 0),
                               riseOnHover: true});
    },
    // An area of a running (red) or imminent (orange) outage: calls from there are the outage.
    outageMarker: function (feature, latlng) {
      const p = feature.properties || {};
      const colour = p.running ? '#d62728' : '#ff7f0e';
      return L.circleMarker(latlng, {radius: 8 + Math.min(14, Math.sqrt(p.n || 0)), color: colour,
                                     weight: 2, fillColor: colour, fillOpacity: 0.18,
                                     dashArray: p.running ? null : '4 3', interactive: true});
    },
    crewMarker: function (feature, latlng) {
      const p = feature.properties;
      const label = el('span', 'sp-crew-label', String(p.code).split('-').pop());
      const where = p.reported ? (p.fresh ? '' : ' sp-crew-stale') : ' sp-crew-office';
      const icon = L.divIcon({className: 'sp-crew sp-crew-' + p.st + where,
                              iconSize: null, html: label});
      return L.marker(latlng, {icon: icon, title: p.code, zIndexOffset: 800, keyboard: false});
    },
    tooltip: function (feature, layer) {
      const lines = (feature.properties && feature.properties.tip) || [];
      const box = el('div', 'sp-tip');
      lines.forEach(function (line, i) { box.appendChild(el('div', i === 0 ? 'fw-semibold' : '', line)); });
      layer.bindTooltip(box, {direction: 'top', offset: [0, -8]});
    },
  };

  // Functions AG Grid may call from column definitions.
  const gridFunctions = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});
  // Minutes to the deadline; past it, a minus sign (the cell turns red).
  gridFunctions.spMinutesLeft = function (params, minLabel) {
    if (params.value === null || params.value === undefined) return '';
    const v = params.value;
    return (v < 0 ? '\u2212' + (-v) : String(v)) + ' ' + minLabel;
  };

  function seenText(texts, ms, now) {
    if (!ms) return texts.never;
    const minutes = Math.floor((now - ms) / 60000);
    return minutes < 1 ? texts.now : fill(texts.ago, {n: minutes});
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    board: {
      gate: function (n, refresh, inflight) {
        const now = Date.now();
        const triggered = (window.dash_clientside.callback_context.triggered || [])
          .map(function (t) { return t.prop_id; });
        const asked = triggered.some(function (id) { return id.indexOf('board-refresh') === 0; });
        if (!asked && inflight && now - inflight < STUCK_MS) return [NO(), NO()];
        return [now, now];
      },

      merge: function (delta, features, known, texts, selected, selectedPrint) {
        if (!delta) return Array(10).fill(NO());
        const now = Date.now();
        features = Object.assign({}, features || {});
        known = Object.assign({}, known || {});
        (delta.remove || []).forEach(function (key) { delete features[key]; delete known[key]; });
        (delta.upsert || []).forEach(function (f) { features[f.id] = f; known[f.id] = delta.prints[f.id]; });
        const changed = (delta.remove || []).length + (delta.upsert || []).length > 0;
        const orders = [], crews = [];
        Object.keys(features).sort().forEach(function (key) {
          (key.charAt(0) === 'o' ? orders : crews).push(features[key]);
        });
        const queue = orders.filter(function (f) { return f.properties.free; }).map(function (f) {
          const p = f.properties;
          return {key: f.id, id: p.id, sla: p.sla, left: p.due ? Math.round((p.due - now) / 60000) : null,
                  summary: [p.code, [p.what, p.u_label].filter(Boolean).join(' · '), p.addr].join('\n')};
        });
        const crewRows = crews.map(function (f) {
          const p = f.properties;
          return {key: f.id, id: p.id, code: p.code, st: p.st, st_label: p.st_label, duty: p.duty,
                  load: p.load, skills: p.skills, members: p.members, seen_text: seenText(texts, p.seen, now)};
        });
        const counts = fill(texts.counts, {
          unassigned: queue.length,
          overdue: orders.filter(function (f) { return f.properties.sla === 'overdue'; }).length,
          risk: orders.filter(function (f) { return f.properties.sla === 'at_risk'; }).length,
          free: crews.filter(function (f) { return f.properties.st === 'free'; }).length,
          crews: crews.length,
        });
        // The selected order's panel is drawn again when the order or any crew changed
        // (the ranking depends on every crew's place and work).
        let print = NO();
        if (selected && selected.id) {
          const crewPrints = Object.keys(known).filter(function (k) { return k.charAt(0) === 'c'; }).sort()
            .map(function (k) { return known[k]; }).join('');
          const current = (known['o' + selected.id] || 'gone') + ':' + digest(crewPrints);
          if (current !== selectedPrint) print = current;
        }
        return [
          changed ? {type: 'FeatureCollection', features: orders} : NO(),
          changed ? {type: 'FeatureCollection', features: crews} : NO(),
          queue, crewRows, known, features, 0,
          fill(texts.live, {time: util().clock(delta.t || now, texts.locale, true)}), counts, print,
        ];
      },

      select: function (clickData, selectedRows, current) {
        const triggered = (window.dash_clientside.callback_context.triggered || [])
          .map(function (t) { return t.prop_id; });
        let id = null;
        if (triggered.some(function (t) { return t.indexOf('board-orders.') === 0; })) {
          id = clickData && clickData.properties ? clickData.properties.id : null;
        } else if (selectedRows && selectedRows.length) {
          id = selectedRows[0].id;
        }
        if (!id || (current && current.id === id)) return [NO(), NO()];
        return [{id: id}, {selected: id}];
      },

      // Shows "reconnecting" when polls have not been answered for a while.
      watch: function (n, inflight, texts, live) {
        if (inflight && Date.now() - inflight > STUCK_MS / 2 && texts) {
          return fill(texts.stale, {time: util().clock(inflight, texts.locale, true)});
        }
        return NO();
      },
    },
  });
})();
