"""Every role walks its main pages in Chinese and English, on a 1366 px desk and a 390 px
phone: each page shows its content with no browser console error, the menu is not clipped,
the page says its language and has its own title; the start page of each role has no
serious or critical accessibility violation (axe-core)."""

from __future__ import annotations

import time

import pytest
from axe_selenium_python import Axe
from selenium.webdriver.common.by import By
from sqlalchemy import update

from station_portal.auth.models import User
from station_portal.auth.roles import Role
from station_portal.pages import nav_pages
from tests.helpers import browser_sign_in as sign_in
from tests.helpers import chromium, console_errors

ACCOUNTS = {"head": Role.STATION_HEAD, "gridmgr": Role.GRID_MANAGER, "manager":
            Role.COMPANY_MANAGER, "account": Role.ACCOUNT_MANAGER, "crew": Role.CREW,
            "clerk": Role.CLERK, "admin": Role.ADMIN}
SIZES = {"desk": (1366, 900), "phone": (390, 844)}
LANGUAGES = {"zh_CN": "zh-CN", "en": "en"}

READY = """
const slot = document.getElementById('page-content');
if (!slot || !slot.children.length) return false;
return !document.querySelector('[data-dash-is-loading="true"], ._dash-loading');
"""
# Every menu entry on one line and inside the window (desk), or the menu button and the
# bell in sight (phone, where the menu folds).
MENU = """
const bar = document.querySelector('.portal-navbar');
const width = window.innerWidth;
const out = [];
if (!bar) return ['no menu bar'];
if (width >= 992) {
  const high = bar.getBoundingClientRect().height;
  if (high > 80) out.push('menu bar ' + high + ' px high');
  for (const el of bar.querySelectorAll('.nav-link, .navbar-brand, .btn')) {
    const r = el.getBoundingClientRect();
    if (!r.width) continue;
    if (r.right > width + 1) out.push((el.id || el.textContent.trim()) + ' ends at ' + r.right);
    if (r.height > 48) out.push((el.id || el.textContent.trim()) + ' wraps (' + r.height + ' px)');
  }
} else {
  for (const id of ['nav-toggle', 'nav-bell']) {
    const el = document.getElementById(id);
    const r = el && el.getBoundingClientRect();
    if (!r || !r.width || r.right > width + 1) out.push(id + ' out of sight');
  }
}
return out;
"""


def wait_ready(driver, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if driver.execute_script(READY):
            time.sleep(0.3)  # a callback that starts right after counts too
            if driver.execute_script(READY):
                return
        time.sleep(0.1)
    raise AssertionError(f"{driver.current_url}: no content after {timeout} s")


def serious(violations: list[dict]) -> list[str]:
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])}: "
            f"{', '.join(n['target'][0] for n in v['nodes'][:3])})"
            for v in violations if v.get("impact") in ("serious", "critical")]


@pytest.mark.slow
@pytest.mark.parametrize("account", list(ACCOUNTS))
def test_each_role_walks_its_pages_in_both_languages_on_desk_and_phone(live_portal, account):
    url, database = live_portal
    role = ACCOUNTS[account]
    paths = [p.path for p in nav_pages(role)]
    problems: list[str] = []
    try:
        walk(url, database, account, paths, problems)
    finally:  # the portal is shared with the other browser tests: leave the language unset
        with database.write() as s:
            s.execute(update(User).where(User.username == account).values(locale=None))
    assert not problems, "\n".join(problems)


def walk(url: str, database, account: str, paths: list[str], problems: list[str]) -> None:
    for locale, language in LANGUAGES.items():
        with database.write() as s:
            s.execute(update(User).where(User.username == account).values(locale=locale))
        for size, (width, height) in SIZES.items():
            driver = chromium(width, height, language=language, phone=size == "phone")
            try:
                sign_in(driver, url, account)
                for path in paths:
                    driver.get(url + path)
                    wait_ready(driver)
                    where = f"{account} {locale} {size} {path}"
                    problems += [f"{where}: console: {m[:200]}" for m in console_errors(driver)]
                    problems += [f"{where}: menu: {m}" for m in driver.execute_script(MENU)]
                    lang = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
                    if lang != language:
                        problems.append(f"{where}: <html lang={lang!r}>")
                    if path != "/" and " · " not in driver.title:
                        problems.append(f"{where}: untitled tab {driver.title!r}")
                if size == "desk":  # the role's start page, checked for accessibility
                    driver.get(url + "/")
                    wait_ready(driver)
                    axe = Axe(driver)
                    axe.inject()
                    found = axe.run(options={"resultTypes": ["violations"]})
                    problems += [f"{account} {locale} axe: {v}"
                                 for v in serious(found["violations"])]
            finally:
                driver.quit()
