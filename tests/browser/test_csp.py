"""The handlers that left the templates for the static scripts (the pages' CSP refuses inline
ones) still work: the kiosk slip's Print button, the case page's document kind, the
application's class; and a refused inline handler does show in the console (so the other
browser tests' console checks catch CSP violations)."""

from __future__ import annotations

from datetime import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from station_portal.hall.models import ServiceHall
from station_portal.org.models import Unit
from tests.helpers import PDF, PNG, console_errors, site, wait_for, wait_visible

HALL = "T-CSP"


def all_day_hall(database) -> None:
    """A hall open around the clock, so that its kiosk gives tickets whenever the test runs."""
    with database.write() as s:
        if s.scalar(select(ServiceHall.id).where(ServiceHall.code == HALL)):
            return
        unit = s.scalar(select(Unit).where(Unit.code == "JL-CY-S"))
        s.add(ServiceHall(code=HALL, name_zh="CSP 测试营业厅", name_en="CSP test hall", level="A",
                          unit_id=unit.id, address="解放中路1号", lat=unit.lat, lon=unit.lon,
                          counters=2, opens_at=time(0, 0), closes_at=time(23, 59, 59),
                          open_days="1111111", open_on_holidays=True))


def test_a_refused_inline_handler_shows_in_the_console(live_url, browser):
    browser.get(live_url + "/login")
    wait_for(browser, (By.NAME, "username"))
    browser.execute_script(
        "const b = document.createElement('button'); b.setAttribute('onclick', "
        "'document.title = \"injected\"'); document.body.appendChild(b); b.click();")
    assert browser.title != "injected"
    assert any("Content Security Policy" in e for e in console_errors(browser))


def test_the_kiosk_slip_prints(live_portal, browser):
    base, database = live_portal
    all_day_hall(database)
    browser.get(f"{base}/kiosk/{HALL}?lang=en")
    wait_visible(browser, (By.ID, "take-payment")).click()
    button = wait_visible(browser, (By.ID, "print-slip"))
    browser.execute_script("window.print = function () { window.printed = true; };")
    button.click()
    assert browser.execute_script("return window.printed === true;")
    assert console_errors(browser) == []


def test_the_application_and_the_case_page_scripts_run(live_portal, browser, tmp_path):
    live_url, database = live_portal
    lat, lon = site(database)
    identity, deed = tmp_path / "id.pdf", tmp_path / "deed.png"
    identity.write_bytes(PDF)
    deed.write_bytes(PNG)
    browser.get(live_url + "/service/apply?lang=en")
    form = wait_for(browser, (By.ID, "apply-form"))
    assert browser.find_element(By.ID, "class-result").text == ""
    browser.execute_script("document.getElementById('customer_type_resident').click();")
    browser.find_element(By.ID, "load_kw").send_keys("8")
    WebDriverWait(browser, 5).until(
        lambda d: "LV resident" in d.find_element(By.ID, "class-result").text)
    for field, value in (("customer_name", "王丽"), ("customer_phone", "13800001111"),
                         ("address", "吉林市船营区解放路 12 号"), ("lat", str(lat)),
                         ("lon", str(lon))):
        browser.find_element(By.ID, field).send_keys(value)
    browser.find_element(By.ID, "doc_identity").send_keys(str(identity))
    browser.find_element(By.ID, "doc_property").send_keys(str(deed))
    browser.execute_script("document.getElementById('accept_terms').checked = true;"
                           "arguments[0].requestSubmit(document.getElementById('apply-submit'));",
                           form)
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "case-number")
                                     or d.find_elements(By.CSS_SELECTOR, ".invalid-feedback"))
    problems = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".invalid-feedback")]
    assert problems == []
    browser.find_element(By.ID, "case-open").click()
    kind = wait_for(browser, (By.ID, "doc-kind"))  # documents still missing
    options = [o.get_attribute("value") for o in Select(kind).options]
    Select(kind).select_by_value(options[-1])
    assert browser.find_element(By.ID, "doc-file").get_attribute("name") == f"doc_{options[-1]}"
    Select(kind).select_by_value(options[0])
    assert browser.find_element(By.ID, "doc-file").get_attribute("name") == f"doc_{options[0]}"
    assert console_errors(browser) == []
