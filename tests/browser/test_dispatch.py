"""Dispatch end to end: a repair arrives through the API, the station head assigns it on the
board, the crew runs it from a phone (also through a dropped connection), the board follows
without a reload."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from tests.helpers import browser_sign_in as sign_in
from tests.helpers import chromium, console_errors, until, wait_for
from tests.helpers import http_api as api
from tests.helpers import http_token as token

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def press(phone, order_id: int, action: str, timeout: float = 25) -> None:
    """Press a step's button on the phone (the list re-renders now and then: find it afresh)."""
    def attempt(d):
        for button in d.find_elements(By.CSS_SELECTOR, f"#crew-job-{order_id} .crew-action"):
            try:
                if button.get_attribute("data-action") == action and button.is_enabled():
                    button.click()
                    return True
            except StaleElementReferenceException:
                return False
        return False
    until(phone, attempt, timeout, message=f"no {action} button")


def crew_state(driver, crew_id: int) -> str | None:
    """The status class of a crew's row in the board's crews panel."""
    return driver.execute_script("""
        const cell = document.querySelector(
          '#board-crews-grid .ag-center-cols-container .ag-row[row-id="c' + arguments[0] + '"] '
          + '[class*="sp-crew-cell-"]');
        if (!cell) return null;
        return [...cell.classList].find(c => c.startsWith('sp-crew-cell-')).slice('sp-crew-cell-'.length);
        """, crew_id)


def test_head_dispatches_and_the_crew_runs_the_repair_from_a_phone(live_url, browser):
    head_auth, crew_auth = token(live_url, "head"), token(live_url, "crew")
    me = api(live_url, "GET", "/me", crew_auth).json()
    crews = api(live_url, "GET", "/crews", head_auth).json()["items"]
    crew_code = next(c["code"] for c in crews if c["id"] == me["crew_id"])
    # A place in the station's territory: next to one of its repairs.
    near = api(live_url, "GET", "/work-orders", head_auth, params={"kind": "repair", "per_page": 1}).json()
    lat, lon = near["items"][0]["lat"], near["items"][0]["lon"]

    # The head opens the board; the page must never reload from here on.
    sign_in(browser, live_url, "head")
    browser.get(live_url + "/dispatch")
    wait_for(browser, (By.CSS_SELECTOR, "#board-crews-grid .ag-row"))
    browser.execute_script("window.__sameBoard = true;")

    # A repair reported through the API appears in the queue by itself.
    created = api(live_url, "POST", "/repairs", head_auth, json={
        "source": "hotline_95598", "category": "low_voltage", "urgency": 1, "lat": lat,
        "lon": lon, "address": "浏览器测试路 8 号", "customer_phone": "13800000000"})
    assert created.status_code == 201, created.text
    order = created.json()
    until(browser, lambda d: order["code"] in d.find_element(By.ID, "board-queue").text,
          message="the new repair did not reach the queue")

    # Pick it and assign the demo crew with one click.
    row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#board-queue .ag-row")
               if order["code"] in r.text)
    row.find_elements(By.CSS_SELECTOR, ".ag-cell")[-1].click()
    until(browser, lambda d: order["code"] in d.find_element(By.ID, "board-panel").text)
    suggestion = wait_for(browser, (By.CSS_SELECTOR, f'#board-panel li[data-crew="{crew_code}"] button'))
    suggestion.click()
    until(browser, lambda d: crew_code in d.find_element(By.ID, "board-message").text)
    until(browser, lambda d: order["code"] not in d.find_element(By.ID, "board-queue").text)

    # The crew's phone shows it; accept and set off.
    phone = chromium(390, 844, phone=True)
    try:
        sign_in(phone, live_url, "crew")
        phone.get(live_url + "/crew")
        press(phone, order["id"], "accept")
        press(phone, order["id"], "depart")
        until(browser, lambda d: crew_state(d, me["crew_id"]) == "en_route",
              message="the board did not show the crew en route")

        # The connection drops as the crew arrives: the step waits in the outbox, then goes once.
        arrive = f'#crew-job-{order["id"]} [data-action="arrive"]'
        until(phone, lambda d: d.find_elements(By.CSS_SELECTOR, arrive))
        phone.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
        press(phone, order["id"], "arrive")
        until(phone, lambda d: d.find_elements(By.CSS_SELECTOR, "#crew-outbox .crew-outbox-alert"),
              message="the failed step was not shown as waiting")
        pending = phone.execute_script("return window.stationPortal.crew.outbox();")
        assert [p["action"] for p in pending] == ["arrive"]
        # The phone's round has ended with the step kept: the server never had it.
        status = api(live_url, "GET", f"/work-orders/{order['id']}", head_auth).json()["status"]
        assert status == "en_route"
        phone.set_network_conditions(offline=False, latency=0, download_throughput=500_000,
                                     upload_throughput=500_000)
        # "Send now" (unless the phone noticed the connection and sent it by itself already)
        phone.execute_script("const b = document.querySelector('#crew-outbox .crew-retry');"
                             "if (b) b.click();")
        until(phone, lambda d: not d.execute_script("return window.stationPortal.crew.outbox().length;"),
              message="the waiting step was never sent")
        until(browser, lambda d: crew_state(d, me["crew_id"]) == "on_site",
              message="the board did not show the crew on site")
        assert phone.find_elements(By.CSS_SELECTOR, f'#crew-job-{order["id"]} [data-action="restore"]')

        # "Share my location": the phone's position reaches the crew's record and the board.
        phone.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["geolocation"],
                                                           "origin": live_url})
        phone.execute_cdp_cmd("Emulation.setGeolocationOverride",
                              {"latitude": lat, "longitude": lon, "accuracy": 12})
        phone.execute_script("document.getElementById('crew-share').click();")

        def reported(_d):
            crew = next(c for c in api(live_url, "GET", "/crews", head_auth).json()["items"]
                        if c["id"] == me["crew_id"])
            return crew["position"] and abs(crew["position"]["lat"] - lat) < 1e-5
        until(phone, reported, message="the position never arrived")
        # Only the request made while offline failed.
        assert [e for e in console_errors(phone) if "ERR_INTERNET_DISCONNECTED" not in e] == []
    finally:
        phone.quit()

    detail = api(live_url, "GET", f"/work-orders/{order['id']}", head_auth).json()
    actions = [e["action"] for e in detail["events"]]
    assert actions.count("arrive") == 1 and actions.count("dispatch") == 1
    assert detail["status"] == "on_site"
    assert browser.execute_script("return window.__sameBoard === true;")
    assert console_errors(browser) == []
