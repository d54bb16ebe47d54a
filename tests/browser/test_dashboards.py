"""Each role's dashboard renders in both languages without callback or console errors, and a
repair reported through the API reaches an open dashboard without a reload."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.helpers import browser_sign_in as sign_in
from tests.helpers import console_errors, until, wait_for, wait_text
from tests.helpers import http_api as api
from tests.helpers import http_token as token

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BOARDS = [
    # user, path, board key, a panel that must draw, heading zh, heading en
    ("head", "/dashboards/operations", "ops", "status", "运营看板", "Operations"),
    ("gridmgr", "/dashboards/workload", "work", "year", "工作量分析", "Workload"),
    ("account", "/dashboards/clients", "clients", "pipeline", "客户与园区", "Clients and parks"),
    ("manager", "/dashboards/kpis", "kpi", "compliance", "关键指标", "KPIs"),
]


def drawn(driver, board: str, panel: str) -> None:
    """The headline numbers and a chart are on the page, and no callback failed."""
    wait_for(driver, (By.CSS_SELECTOR, f"#dash-{board}-stats .card"))
    wait_for(driver, (By.CSS_SELECTOR, f"#dash-{board}-{panel} .main-svg"))
    until(driver, lambda d: d.execute_script(
        "return !document.querySelector('.dash-spinner, ._dash-loading-callback')"), 20)
    errors = driver.find_elements(By.CSS_SELECTOR, ".dash-fe-error__title, .dash-debug-menu__error")
    assert not errors, [e.text for e in errors]
    # every chart carries its PNG download button (its tip in the page's language), and
    # nothing that uploads to a cloud
    titles = driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(b => b.dataset.title)",
        f"#dash-{board}-{panel} .modebar-btn")
    assert {"Download plot as a PNG", "下载图表为PNG格式"} & set(titles), titles
    assert not [t for t in titles if "Share" in t or "Chart Studio" in t]


@pytest.mark.parametrize(("user", "path", "board", "panel", "zh", "en"), BOARDS,
                         ids=[b[0] for b in BOARDS])
def test_the_role_dashboard_renders_in_both_languages(live_url, browser, user, path, board, panel,
                                                      zh, en):
    sign_in(browser, live_url, user)
    browser.find_element(By.ID, "home-dashboard").click()  # the home page leads to it
    wait_text(browser, (By.CSS_SELECTOR, ".portal-page-header h1"), zh)
    assert browser.current_url.endswith(path)
    drawn(browser, board, panel)
    assert console_errors(browser) == []

    browser.find_element(By.ID, "lang-en").click()
    wait_text(browser, (By.CSS_SELECTOR, ".portal-page-header h1"), en)
    drawn(browser, board, panel)
    assert console_errors(browser) == []
    browser.find_element(By.ID, "lang-zh_CN").click()  # leave the account as it was
    wait_text(browser, (By.CSS_SELECTOR, ".portal-page-header h1"), zh)


def test_a_repair_from_the_api_reaches_the_open_dashboard(live_url, browser):
    auth = token(live_url, "head")
    near = api(live_url, "GET", "/work-orders", auth,
               params={"kind": "repair", "per_page": 1}).json()["items"][0]
    sign_in(browser, live_url, "head")
    browser.get(live_url + "/dashboards/operations")
    drawn(browser, "ops", "status")
    browser.execute_script("window.__sameDashboard = true;")

    def open_orders(d) -> int:
        return int(d.find_element(By.CSS_SELECTOR, "#dash-ops-stats .card .fs-4").text)

    before = open_orders(browser)
    created = api(live_url, "POST", "/repairs", auth, json={
        "source": "hotline_95598", "category": "low_voltage", "urgency": 1,
        "lat": near["lat"], "lon": near["lon"], "address": "看板实时测试路 1 号",
        "customer_phone": "13800000001"})
    assert created.status_code == 201, created.text
    until(browser, lambda d: open_orders(d) == before + 1, 15,
          "the new repair did not reach the dashboard")
    assert browser.execute_script("return window.__sameDashboard === true")  # no reload
    assert console_errors(browser) == []


# Every callback request the page makes, by the outputs it asks for.
REQUESTS_JS = """
window.__dashCalls = [];
const send = window.fetch;
window.fetch = function (url, options) {
  try {
    if (String(url).indexOf('_dash-update-component') !== -1)
      window.__dashCalls.push(JSON.parse(options.body).output);
  } catch (e) {}
  return send.apply(this, arguments);
};
"""


def test_the_company_board_opens_in_one_round_trip_and_draws_every_panel(live_url, browser):
    """The KPI board (one table in its first row, ten panels below) comes with the router's
    answer: no dashboard callback runs as it opens (the live poll comes later, once every
    panel is drawn); the charts and tables below the first screen are drawn from that answer,
    without a spinner or a callback error."""
    sign_in(browser, live_url, "manager")
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": REQUESTS_JS})
    browser.get(live_url + "/dashboards/kpis")
    drawn(browser, "kpi", "compliance")
    for table in ("league", "electricity", "stages", "customers", "gw_late"):
        until(browser, lambda d, t=table: d.execute_script(
            "const g = document.getElementById(arguments[0]);"
            "return !!g && !!g.querySelector('.ag-row, .ag-overlay-no-rows-center')"
            " && !g.querySelector('.ag-overlay-loading-center')", f"dash-kpi-{t}"), 20,
            f"the {table} table was not filled")
    for chart in ("compliance", "stagedays", "attribution", "repairs", "gw_waiting", "gw_funds"):
        until(browser, lambda d, c=chart: d.execute_script(
            "return !!document.querySelector(arguments[0])",
            f"#dash-kpi-{c} .main-svg :is(.trace, .hm, .annotation-text)"), 20,
            f"the {chart} chart was not drawn")
    calls = browser.execute_script("return window.__dashCalls")
    board_calls = [c for c in calls if "dash-kpi-" in c]
    assert all("dash-kpi-live" in c for c in board_calls), board_calls  # only the poll
    assert "page-content.children" in calls
    assert console_errors(browser) == []


def test_a_name_typed_like_a_link_shows_as_text_on_a_chart_not_as_a_link(live_portal, browser):
    """plotly.js turns ``<a href>`` in the text it draws into a link: the parks' names reach
    the account manager's chart escaped, so the axis shows what was typed and nothing links."""
    from sqlalchemy import select, update

    from station_portal.org.models import IndustrialPark

    base, database = live_portal
    evil = '<a href="https://example.com/">{}</a>'
    with database.read() as session:
        names = dict(session.execute(select(IndustrialPark.id, IndustrialPark.name_zh)).all())
    try:
        with database.write() as session:
            for park_id in names:
                session.execute(update(IndustrialPark).where(IndustrialPark.id == park_id)
                                .values(name_zh=evil.format(park_id)))
        sign_in(browser, base, "account")
        browser.get(base + "/dashboards/clients")
        drawn(browser, "clients", "parks")
        until(browser, lambda d: d.execute_script(
            "return document.querySelectorAll('#dash-clients-parks .ytick text').length > 0"), 20)
        ticks = browser.execute_script(
            "return [...document.querySelectorAll('#dash-clients-parks .ytick text')]"
            ".map(t => t.textContent)")
        assert ticks and all(t.startswith('<a href="https://example.com/">') for t in ticks), ticks
        assert browser.execute_script(
            "return document.querySelectorAll('#dash-clients-parks svg a').length") == 0
    finally:
        with database.write() as session:
            for park_id, name in names.items():
                session.execute(update(IndustrialPark).where(IndustrialPark.id == park_id)
                                .values(name_zh=name))
