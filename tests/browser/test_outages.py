"""A station head sees the outage planned for the station on the outages page (map, row,
notice verdict); once announced, a customer finds it on the public page by their account
number."""

from __future__ import annotations

from datetime import timedelta

from selenium.webdriver.common.by import By
from sqlalchemy import select

from station_portal.db import utcnow
from station_portal.network.models import ConnectionPoint, Outage, TransformerArea
from station_portal.org.models import Unit
from station_portal.services import outages as service
from station_portal.timefmt import local
from tests.helpers import account, console_errors, wait_for
from tests.helpers import browser_sign_in as sign_in


def test_a_head_sees_the_week_on_a_map_and_a_customer_finds_the_outage(live_portal, browser):
    url, database = live_portal
    now = utcnow()
    with database.write() as s:
        station = s.scalar(select(Unit).where(Unit.code == "JL-CY-S"))
        area = s.scalar(select(TransformerArea).join(Unit, Unit.id == TransformerArea.unit_id)
                        .where(Unit.path.startswith(station.path)).order_by(TransformerArea.code.desc()))
        starts = now + timedelta(days=9)
        outage = service.create_outage(s, account(s, "head"), service.OutageInput(
            kind="planned", reason="浏览器测试检修", starts_at=starts,
            ends_at=starts + timedelta(hours=5), area_ids=[area.id]), now=now)
        service.outage_step(s, account(s, "manager"), outage.id, outage.version, "approve")
        outage_id, code = outage.id, outage.code
        customer = s.scalar(select(ConnectionPoint.account_no)
                            .where(ConnectionPoint.area_id == area.id).limit(1))

    sign_in(browser, url, "head")
    browser.get(url + "/outages")
    wait_for(browser, (By.CSS_SELECTOR, f"#outage-{outage_id}"))
    wait_for(browser, (By.CSS_SELECTOR, "#outages-map .js-plotly-plot"))
    assert "Not told yet" in browser.find_element(By.ID, f"outage-verdict-{outage_id}").text \
        or "尚未通知" in browser.find_element(By.ID, f"outage-verdict-{outage_id}").text
    # Announced (the step's callback is tested over HTTP): the public page shows it.
    with database.write() as s:
        service.outage_step(s, account(s, "head"), outage_id, s.get(Outage, outage_id).version,
                            "announce")
    assert console_errors(browser) == []

    browser.get(url + "/service/outages?lang=zh_CN&q=" + customer)
    wait_for(browser, (By.ID, f"answer-{code}"))
    assert "浏览器测试检修" in browser.find_element(By.ID, "outage-answer").text
    assert local(starts).strftime("%Y-%m-%d %H:%M") in browser.find_element(By.ID, "outage-answer").text
