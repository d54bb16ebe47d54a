// The counter's live timer (/counter): every second, each .hall-timer shows the minutes
// since its data-start and turns amber past data-warn-share (sla.rules.DEFAULT_WARN_SHARE)
// of its data-standard (minutes), red beyond it. The server renders the same colours, so the page is right without this too.
(function () {
  'use strict';
  function tick() {
    const timers = document.querySelectorAll('.hall-timer[data-start]');
    timers.forEach(function (node) {
      const start = Date.parse(node.getAttribute('data-start'));
      if (isNaN(start)) return;
      const seconds = Math.max(0, Math.floor((Date.now() - start) / 1000));
      node.textContent = Math.floor(seconds / 60) + ':' + String(seconds % 60).padStart(2, '0');
      const standard = parseFloat(node.getAttribute('data-standard'));
      const serving = node.getAttribute('data-serving') === '1';
      const warnShare = parseFloat(node.getAttribute('data-warn-share'));
      node.classList.remove('text-success', 'text-warning', 'text-danger');
      if (!serving || !(standard > 0)) return;
      const share = seconds / (standard * 60);
      node.classList.add(share > 1 ? 'text-danger' : share >= warnShare ? 'text-warning' : 'text-success');
    });
  }
  window.setInterval(tick, 1000);
})();

// The kiosk's ticket slip (/kiosk/<hall>/ticket): its Print button (no inline handler: CSP).
(function () {
  'use strict';
  function bind() {
    const button = document.getElementById('print-slip');
    if (button) button.addEventListener('click', function () { window.print(); });
  }
  if (document.readyState !== 'loading') bind(); else document.addEventListener('DOMContentLoaded', bind);
})();
