// The crew's phone view: steps, photos and location go to the REST API (/api/v1).
//
// A step (accept, set off, arrived, restored) goes into an outbox in localStorage
// with a random key and the time it was pressed, then is sent. Until the server
// confirms it, it stays in the outbox and is sent again (on "online", every 15 s,
// or with "Send now"); the key makes the server apply it once however often it
// arrives. A refusal (the repair was reassigned meanwhile …) is shown and dropped.
(function () {
  'use strict';
  const OUTBOX_KEY = 'stationPortal.crew.outbox.v1';
  const SHARE_KEY = 'stationPortal.crew.share';
  const RETRY_MS = 15000;
  const PING_EVERY_MS = 30000;
  const PING_MOVE_M = 50;
  const HEADERS = {'Content-Type': 'application/json', 'X-Requested-With': 'station-portal'};
  const portal = (window.stationPortal = window.stationPortal || {});

  const util = function () { return portal.util; };  // assets/portal_util.js
  const el = function (tag, className, text) { return util().el(tag, className, text); };
  const fill = function (template, values) { return util().fill(template, values); };

  function texts() {
    const box = document.getElementById('crew-outbox');
    try { return JSON.parse(box ? box.getAttribute('data-texts') : '{}') || {}; } catch (e) { return {}; }
  }

  function newKey() {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);  // also in plain-HTTP pages, unlike randomUUID
    return 'k' + Array.from(bytes, function (b) { return b.toString(16).padStart(2, '0'); }).join('');
  }

  // One outbox per signed-in user, so steps never go out under someone else's name.
  function outboxKey() {
    const box = document.getElementById('crew-outbox');
    const user = box ? box.getAttribute('data-user') : null;
    return user ? OUTBOX_KEY + '.' + user : null;
  }

  function load() {
    const key = outboxKey();
    if (!key) return [];
    try { return JSON.parse(window.localStorage.getItem(key)) || []; } catch (e) { return []; }
  }

  function save(items) {
    const key = outboxKey();
    if (key) window.localStorage.setItem(key, JSON.stringify(items));
  }

  function refreshList() {
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props('crew-refresh', {data: Date.now()});
    }
  }

  function statusLine(orderId, text, kind) {
    document.querySelectorAll('.crew-job-status[data-order="' + orderId + '"]').forEach(function (node) {
      node.textContent = text || '';
      node.className = 'crew-job-status small mt-1 ' + (kind ? 'text-' + kind : '');
    });
  }

  // -- the outbox ---------------------------------------------------------------------
  let flushing = false;
  let retryTimer = null;
  let lastProblem = null;  // 'network' | 'server' | 'signin'

  function render() {
    const box = document.getElementById('crew-outbox');
    if (!box) return;
    const t = texts();
    const items = load();
    box.textContent = '';
    // Buttons of steps waiting to be sent stay disabled, also after the list re-renders.
    document.querySelectorAll('.crew-action').forEach(function (button) {
      const waiting = items.some(function (i) { return String(i.order) === button.dataset.order; });
      button.disabled = waiting;
    });
    if (!items.length) return;
    const alert = el('div', 'alert alert-warning py-2 mb-0 crew-outbox-alert');
    alert.appendChild(el('div', 'fw-semibold', fill(t.pending, {n: items.length})));
    const list = el('ul', 'small mb-1 ps-3');
    items.forEach(function (i) {
      const when = util().clock(Date.parse(i.at), t.locale);
      list.appendChild(el('li', '', i.code + ' · ' + i.label + ' · ' + when));
    });
    alert.appendChild(list);
    if (lastProblem) alert.appendChild(el('div', 'small mb-1', t[lastProblem]));
    if (lastProblem === 'signin') {
      const link = el('a', 'btn btn-sm btn-outline-dark me-2', t.sign_in_again);
      link.href = '/login?next=' + encodeURIComponent('/crew');
      alert.appendChild(link);
    }
    const retry = el('button', 'btn btn-sm btn-warning crew-retry', t.retry);
    retry.type = 'button';
    alert.appendChild(retry);
    box.appendChild(alert);
    items.forEach(function (i) { statusLine(i.order, lastProblem ? t[lastProblem] : t.sending, 'warning'); });
  }

  async function send(item) {
    // The age of the step by the phone's own clock: right even when that clock is not.
    const body = {action: item.action, client_key: item.key,
                  age_s: Math.min(86400, Math.max(0, (Date.now() - item.pressed) / 1000))};
    if (item.note) body.note = item.note;
    return fetch('/api/v1/work-orders/' + encodeURIComponent(item.order) + '/events', {
      method: 'POST', credentials: 'same-origin', headers: HEADERS, body: JSON.stringify(body),
    });
  }

  async function flush() {
    if (flushing) return;
    flushing = true;
    const t = texts();
    let sentAny = false;
    const tried = new Set();
    try {
      for (const item of load()) {
        tried.add(item.key);
        let response;
        try {
          response = await send(item);
        } catch (e) {
          lastProblem = 'network';
          break;  // offline: keep this and every later step, in order
        }
        if (response.ok) {
          save(load().filter(function (i) { return i.key !== item.key; }));
          statusLine(item.order, fill(t.sent, {what: item.label}), 'success');
          lastProblem = null;
          sentAny = true;
        } else if (response.status === 401) {
          lastProblem = 'signin';
          break;
        } else if (response.status >= 500 || response.status === 429 || response.status === 408) {
          lastProblem = 'server';
          break;
        } else {
          // Refused for good (the repair changed meanwhile, …): say why and drop it.
          const answer = await response.json().catch(function () { return {}; });
          save(load().filter(function (i) { return i.key !== item.key; }));
          const reason = answer.fields ? Object.values(answer.fields).join('; ') : (answer.message || response.status);
          statusLine(item.order, fill(t.refused, {reason: reason}), 'danger');
          sentAny = true;
        }
      }
    } finally {
      flushing = false;
    }
    render();
    if (sentAny) refreshList();
    if (retryTimer) window.clearTimeout(retryTimer);
    retryTimer = null;
    const waiting = load();
    if (!lastProblem && waiting.some(function (i) { return !tried.has(i.key); })) {
      window.setTimeout(flush, 0);  // pressed while this round was sending: send it now
    } else if (waiting.length) {
      retryTimer = window.setTimeout(flush, RETRY_MS);
    }
  }

  function queueStep(button) {
    const noteField = button.dataset.note ? document.getElementById(button.dataset.note) : null;
    const item = {
      key: newKey(), order: Number(button.dataset.order), action: button.dataset.action,
      code: button.dataset.code, label: button.dataset.label, at: new Date().toISOString(),
      pressed: Date.now(),
      note: noteField ? noteField.value.slice(0, 300) : '',
    };
    const items = load();
    items.push(item);
    save(items);
    button.disabled = true;
    statusLine(item.order, texts().sending, 'secondary');
    flush();
  }

  // -- photos ---------------------------------------------------------------------------
  const failedPhotos = [];  // {order, file}: kept while the page is open, to send again

  async function sendPhoto(order, file) {
    const t = texts();
    statusLine(order, fill(t.photo_sending, {name: file.name}), 'secondary');
    const form = new FormData();
    form.append('file', file, file.name);
    let reason = '';
    try {
      const response = await fetch('/api/v1/work-orders/' + encodeURIComponent(order) + '/attachments', {
        method: 'POST', credentials: 'same-origin', headers: {'X-Requested-With': 'station-portal'}, body: form,
      });
      if (response.ok) {
        statusLine(order, fill(t.photo_sent, {name: file.name}), 'success');
        return;
      }
      const answer = await response.json().catch(function () { return {}; });
      reason = answer.fields ? Object.values(answer.fields).join('; ') : (answer.message || response.status);
      if (response.status < 500 && response.status !== 401 && response.status !== 429) {
        statusLine(order, fill(t.photo_failed, {name: file.name, reason: reason}), 'danger');
        return;  // refused for good (not a photo, too big): sending again would not help
      }
    } catch (e) {
      reason = t.network;
    }
    failedPhotos.push({order: order, file: file});
    statusLine(order, fill(t.photo_failed, {name: file.name, reason: reason}), 'danger');
    const holder = document.querySelector('.crew-job-status[data-order="' + order + '"]');
    if (holder) {
      const again = el('button', 'btn btn-sm btn-outline-danger ms-2 crew-photo-retry', t.photo_retry);
      again.type = 'button';
      again.dataset.order = order;
      holder.appendChild(again);
    }
  }

  // -- location -------------------------------------------------------------------------
  let watchId = null;
  let lastPing = null;  // {at, lat, lon}
  let pingBuffer = [];

  function metres(a, b) {
    const r = 6371000, rad = Math.PI / 180;
    const dLat = (b.lat - a.lat) * rad, dLon = (b.lon - a.lon) * rad;
    const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
    return 2 * r * Math.asin(Math.sqrt(h));
  }

  function shareStatus(text) {
    const node = document.getElementById('crew-share-status');
    if (node) node.textContent = text;
  }

  let pinging = false;

  async function sendPings() {
    if (pinging || !pingBuffer.length) return;  // one request at a time: never the same ping twice
    pinging = true;
    const batch = pingBuffer.slice(0, 50);
    let more = false;
    try {
      const response = await fetch('/api/v1/crews/me/pings', {
        method: 'POST', credentials: 'same-origin', headers: HEADERS, body: JSON.stringify({pings: batch}),
      });
      if (response.ok || (response.status >= 400 && response.status < 500 && response.status !== 401
                          && response.status !== 429)) {
        // sent, or refused for good: drop exactly these (new ones may have been added meanwhile)
        pingBuffer = pingBuffer.filter(function (p) { return batch.indexOf(p) < 0; });
      }
      if (response.ok) {
        more = pingBuffer.length > 0;  // a backlog from a time without connection
        const t = texts();
        const last = batch[batch.length - 1];
        shareStatus(fill(t.share_sent, {time: util().clock(Date.parse(last.at), t.locale),
                                        m: Math.round(last.accuracy_m || 0)}));
      }
    } catch (e) {
      shareStatus(texts().network);
    } finally {
      pinging = false;
    }
    if (more) window.setTimeout(sendPings, 1000);
  }

  function onPosition(position) {
    const here = {lat: position.coords.latitude, lon: position.coords.longitude,
                  at: new Date(position.timestamp || Date.now()).toISOString(),
                  accuracy_m: Math.min(100000, Math.round(position.coords.accuracy || 0))};
    const now = Date.now();
    if (lastPing && now - lastPing.t < PING_EVERY_MS && metres(lastPing, here) < PING_MOVE_M) return;
    lastPing = {t: now, lat: here.lat, lon: here.lon};
    pingBuffer.push(here);
    if (pingBuffer.length > 500) pingBuffer = pingBuffer.slice(-500);
    sendPings();
  }

  function onPositionError(error) {
    const t = texts();
    shareStatus(error.code === 1 ? t.share_denied : t.share_unavailable);
  }

  function setSharing(on) {
    const t = texts();
    window.localStorage.setItem(SHARE_KEY, on ? '1' : '0');
    if (watchId !== null) { navigator.geolocation.clearWatch(watchId); watchId = null; }
    if (!on) { shareStatus(t.share_off); return; }
    if (!window.isSecureContext || !navigator.geolocation) { shareStatus(t.share_insecure); return; }
    shareStatus(t.share_on);
    lastPing = null;
    watchId = navigator.geolocation.watchPosition(onPosition, onPositionError,
                                                  {enableHighAccuracy: true, maximumAge: 15000, timeout: 60000});
  }

  // -- wiring ---------------------------------------------------------------------------
  document.addEventListener('click', function (event) {
    const step = event.target.closest('.crew-action');
    if (step) { event.preventDefault(); if (!step.disabled) queueStep(step); return; }
    if (event.target.closest('.crew-retry')) { flush(); return; }
    const photo = event.target.closest('.crew-photo');
    if (photo) { event.preventDefault(); choosePhotos(photo.dataset.order); return; }
    const again = event.target.closest('.crew-photo-retry');
    if (again) {
      const order = again.dataset.order;
      again.remove();
      for (let i = failedPhotos.length - 1; i >= 0; i--) {
        if (String(failedPhotos[i].order) === order) sendPhoto(order, failedPhotos.splice(i, 1)[0].file);
      }
    }
  });
  document.addEventListener('change', function (event) {
    if (event.target.id === 'crew-share') setSharing(event.target.checked);
  });

  function choosePhotos(order) {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = 'image/jpeg,image/png,image/webp';
    input.multiple = true;
    input.addEventListener('change', function () {
      Array.from(input.files || []).forEach(function (file) { sendPhoto(order, file); });
    });
    input.click();
  }
  window.addEventListener('online', function () { flush(); sendPings(); });

  // The page is rendered by Dash. When its job list appears (or is rendered again), put
  // the outbox state back on it; restore the location switch once per page.
  let currentList = null;
  const listObserver = new MutationObserver(function () { render(); });
  function onPage() {
    render();
    const share = document.getElementById('crew-share');
    if (share && !share.dataset.restored) {
      share.dataset.restored = '1';
      if (window.localStorage.getItem(SHARE_KEY) === '1' && !share.checked) share.click();
    }
    if (load().length && !flushing && !retryTimer) flush();
  }
  new MutationObserver(function () {
    const list = document.getElementById('crew-list');
    if (list === currentList) return;  // cheap: most mutations are not a new page
    currentList = list;
    listObserver.disconnect();
    if (list) {
      listObserver.observe(list, {childList: true});  // Dash replaces the list's children
      onPage();
    }
  }).observe(document.documentElement, {childList: true, subtree: true});

  portal.crew = {
    jobMarker: function (feature, latlng) {
      const p = feature.properties;
      const icon = L.divIcon({className: 'sp-job-pin sp-sla-' + p.sla, iconSize: [22, 22],
                              html: el('span', '', p.n)});
      return L.marker(latlng, {icon: icon, title: p.code});
    },
    outbox: load,
    flush: flush,
  };
})();
