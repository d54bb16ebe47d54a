// Small helpers shared by the portal's scripts (dispatch.js, crew.js).
(function () {
  'use strict';
  const portal = (window.stationPortal = window.stationPortal || {});
  portal.util = {
    // An element with a class and a text (always as text, never as HTML).
    el: function (tag, className, text) {
      const node = document.createElement(tag);
      if (className) node.className = className;
      if (text !== undefined && text !== null) node.textContent = String(text);
      return node;
    },
    // "{n} min" + {n: 3} → "3 min"; unknown names stay as they are.
    fill: function (template, values) {
      return String(template || '').replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
    },
    // A time of day in the user's language, in the portal's time zone (Asia/Shanghai).
    clock: function (ms, locale, seconds) {
      const options = {hour: '2-digit', minute: '2-digit', hour12: false, timeZone: 'Asia/Shanghai'};
      if (seconds) options.second = '2-digit';
      return new Date(ms).toLocaleTimeString(locale || 'zh-CN', options);
    },
  };
})();
