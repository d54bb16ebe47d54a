"""First paint of the portal's pages in headless Chromium, per role, on a running demo.

Measures, for each page, the time from the start of navigation to its first content:
the page's own content is in the DOM and no Dash callback is still loading (the figure a
user waits for), and the largest contentful paint as Chromium reports it. Each page is
loaded ``--repeat`` times in a fresh tab; the median is printed.

    station-portal serve --port 8070 &      # a seeded demo (make run seeds one)
    python benchmarks/first_paint.py --url http://127.0.0.1:8070 --repeat 5

Prints one line per (role, page) and the bytes the browser fetched for the first load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from selenium.webdriver.common.by import By

from tests.browser.conftest import chromium

# (account, page path) — the main pages of each role
PAGES = [
    ("head", "/"), ("head", "/dispatch"), ("head", "/dashboards/operations"),
    ("head", "/org"), ("head", "/orders/applications"),
    ("gridmgr", "/dashboards/workload"), ("gridmgr", "/org"),
    ("manager", "/dashboards/kpis"), ("manager", "/org"),
    ("account", "/visits"), ("clerk", "/counter"), ("crew", "/crew"), ("admin", "/admin/users"),
    ("admin", "/org"),
]

# Content is there and Dash is done: the page slot has children and nothing is loading.
READY_JS = """
const slot = document.getElementById('page-content');
if (!slot || !slot.children.length) return null;
if (document.querySelector('[data-dash-is-loading="true"], ._dash-loading, .dash-spinner'))
    return null;
return performance.now();
"""
LCP_JS = """
return new Promise(resolve => {
  let last = 0;
  new PerformanceObserver(list => { for (const e of list.getEntries()) last = e.startTime; })
    .observe({type: 'largest-contentful-paint', buffered: true});
  setTimeout(() => resolve(last), 50);
});
"""
BYTES_JS = """
return performance.getEntriesByType('resource').reduce((n, r) => n + (r.transferSize || 0), 0)
  + (performance.getEntriesByType('navigation')[0] || {}).transferSize;
"""


def sign_in(driver, url: str, user: str) -> None:
    driver.get(url + "/login")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys("portal-demo")
    driver.find_element(By.ID, "sign-in").click()
    deadline = time.time() + 30
    while time.time() < deadline and "/login" in driver.current_url:
        time.sleep(0.1)


def first_paint(driver, url: str, timeout: float = 30.0) -> float:
    driver.get("about:blank")
    driver.get(url)
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready = driver.execute_script(READY_JS)
        if ready is not None:
            # it must stay ready: a callback that starts right after would not count
            time.sleep(0.15)
            if driver.execute_script(READY_JS) is not None:
                return float(ready)
        time.sleep(0.05)
    raise TimeoutError(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8070")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--language", default="zh-CN")
    args = parser.parse_args()
    print(f"{'account':9} {'page':26} {'first content ms':>16} {'LCP ms':>8} {'KB':>7}")
    by_user: dict[str, list[str]] = {}
    for user, path in PAGES:
        by_user.setdefault(user, []).append(path)
    for user, paths in by_user.items():
        driver = chromium(1366, 900, language=args.language)
        try:
            sign_in(driver, args.url, user)
            for path in paths:
                first_paint(driver, args.url + path)  # warm: the browser cache, as a user's
                times, lcps, kb = [], [], 0.0
                for _ in range(args.repeat):
                    times.append(first_paint(driver, args.url + path))
                    lcps.append(float(driver.execute_script(LCP_JS) or 0))
                    kb = float(driver.execute_script(BYTES_JS) or 0) / 1024
                print(f"{user:9} {path:26} {statistics.median(times):16.0f} "
                      f"{statistics.median(lcps):8.0f} {kb:7.0f}", flush=True)
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
