"""A customer takes a number at the hall kiosk; the clerk calls, serves and finishes it
at the counter; the hall's TV shows the call."""

from __future__ import annotations

from datetime import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from station_portal.hall.models import HallTicket, ServiceHall
from station_portal.org.models import Unit
from tests.helpers import browser_sign_in as sign_in
from tests.helpers import choose, console_errors, wait_for, wait_text, wait_visible

HALL = "T-BROWSER"


def all_day_hall(database) -> None:
    with database.write() as s:
        if s.scalar(select(ServiceHall.id).where(ServiceHall.code == HALL)):
            return
        unit = s.scalar(select(Unit).where(Unit.code == "JL-CH-S"))
        s.add(ServiceHall(code=HALL, name_zh="浏览器测试营业厅", name_en="Browser test hall",
                          level="A", unit_id=unit.id, address="解放中路1号", lat=unit.lat,
                          lon=unit.lon, counters=2, opens_at=time(0, 0),
                          closes_at=time(23, 59, 59), open_days="1111111", open_on_holidays=True))


def test_a_kiosk_ticket_is_called_served_and_finished_at_the_counter(live_portal, browser):
    base, database = live_portal
    all_day_hall(database)

    browser.get(f"{base}/kiosk/{HALL}?lang=en")
    wait_visible(browser, (By.ID, "take-payment")).click()
    label = wait_visible(browser, (By.ID, "ticket-label")).text
    assert label.startswith("B") and "People ahead of you" in browser.find_element(
        By.ID, "ticket-slip").text
    assert browser.find_element(By.ID, "print-slip").is_displayed()

    sign_in(browser, base, "clerk")
    browser.get(base + "/counter")
    wait_for(browser, (By.ID, "counter-hall"))
    choose(browser, "counter-hall", "Browser test")  # English: chosen at the kiosk
    choose(browser, "counter-number", "2")
    wait_text(browser, (By.ID, "counter-waiting-count"), "1")
    browser.find_element(By.ID, "counter-call").click()
    wait_text(browser, (By.ID, "counter-label"), label)
    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "counter-start").is_enabled())
    browser.find_element(By.ID, "counter-start").click()
    wait_text(browser, (By.ID, "counter-current-ticket"), "Serving since")
    timer = browser.find_element(By.ID, "counter-timer")
    assert timer.get_attribute("data-serving") == "1" and timer.get_attribute("data-standard") == "5"
    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "counter-finish").is_enabled())
    browser.find_element(By.ID, "counter-finish").click()
    wait_text(browser, (By.ID, "counter-feedback"), label)
    wait_for(browser, (By.CSS_SELECTOR, "#counter-current .portal-empty"))
    with database.read() as s:
        ticket = s.scalar(select(HallTicket).join(ServiceHall).where(
            ServiceHall.code == HALL, HallTicket.label == label))
        assert ticket.status == "done" and ticket.counter == 2 and ticket.service_seconds is not None

    browser.get(f"{base}/kiosk/{HALL}/display?lang=en")
    assert wait_visible(browser, (By.ID, "display-now")).text == label
    assert "counter 2" in browser.find_element(By.ID, "display-latest").text
    assert console_errors(browser) == []
