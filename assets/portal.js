// When a session ends (sign-out elsewhere, idle timeout), Dash calls start to
// answer 401: send the browser to the sign-in page instead of failing silently.
(function () {
  const originalFetch = window.fetch;
  window.fetch = async function (...args) {
    const response = await originalFetch.apply(this, args);
    try {
      const target = args[0] && args[0].url ? args[0].url : String(args[0]);
      if (response.status === 401 && target.indexOf('/_dash-') !== -1) {
        const here = window.location.pathname + window.location.search;
        window.location.assign('/login?reason=idle&next=' + encodeURIComponent(here));
      }
    } catch (e) { /* never break the original call */ }
    return response;
  };
})();
