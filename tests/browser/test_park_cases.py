"""An account manager opens a park case from its page and lands on the case."""

from __future__ import annotations

from datetime import timedelta

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlalchemy import select

from station_portal.auth.models import User
from station_portal.db import utcnow
from station_portal.timefmt import local
from station_portal.workorders.models import WorkOrder
from tests.helpers import browser_sign_in as sign_in
from tests.helpers import choose, console_errors, wait_for, wait_text


def test_an_account_manager_opens_a_park_case_and_follows_the_link(live_portal, browser):
    live_url, database = live_portal
    with database.read() as s:
        manager = s.scalar(select(User).where(User.username == "account"))
        client = manager.clients[0]
        code, name = client.code, client.name_zh
    sign_in(browser, live_url, "account")
    browser.get(live_url + "/orders/parks/new")
    wait_for(browser, (By.ID, "park-new-submit"))
    choose(browser, "park-new-client", code)
    wait_text(browser, (By.ID, "park-new-manager"), manager.display_name)
    browser.find_element(By.ID, "park-new-load-kw").send_keys("2600")
    expected = (local(utcnow()).date() + timedelta(days=365)).isoformat()
    day = browser.find_element(By.ID, "park-new-date")
    day.send_keys(expected)
    day.send_keys(Keys.TAB)
    browser.find_element(By.ID, "park-new-submit").click()
    made = wait_for(browser, (By.ID, "park-new-made"))
    assert name in made.text
    browser.get(browser.find_element(By.ID, "park-new-order-link").get_attribute("href"))
    wait_for(browser, (By.ID, "order-clocks"))
    assert "首次对接" in browser.find_element(By.ID, "order-clocks").text
    with database.read() as s:
        case = s.scalar(select(WorkOrder).where(WorkOrder.client_id == client.id,
                                                WorkOrder.kind == "park_case")
                        .order_by(WorkOrder.id.desc()).limit(1))
    assert f"id={case.id}" in browser.current_url
    assert case.projected_load_kw == 2600 and case.projected_date.isoformat() == expected
    assert console_errors(browser) == []
