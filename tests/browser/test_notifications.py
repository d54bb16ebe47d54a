"""The bell counts live, the notification centre links and marks read, the channel settings
stick; an account manager records a visit the visit job planned."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from station_portal.auth.models import User
from station_portal.db import utcnow
from station_portal.jobs import visits as visit_job
from station_portal.notify.models import Notification
from station_portal.notify.service import notify
from station_portal.workorders.models import WorkOrder
from tests.helpers import browser_sign_in as sign_in
from tests.helpers import console_errors, wait_for, wait_text


def unread(database, username: str) -> int:
    with database.read() as s:
        user = s.scalar(select(User).where(User.username == username))
        return len(list(s.scalars(select(Notification.id).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)))))


def test_the_bell_counts_live_and_the_centre_marks_read(live_portal, browser):
    url, database = live_portal
    sign_in(browser, url, "head")
    wait_for(browser, (By.ID, "nav-bell"))
    before = unread(database, "head")
    with database.write() as s:
        head = s.scalar(select(User).where(User.username == "head"))
        order = s.scalar(select(WorkOrder).where(WorkOrder.unit_id == head.scope_unit_id)
                         .order_by(WorkOrder.id.desc()))
        notify(s, head, "sla_overdue", order_id=order.id, params={
            "code": order.code, "stage": "arrival", "level": 1,
            "due_at": utcnow().isoformat(), "holder": {"zh": "昌邑供电服务站", "en": "Changyi"}})
        code, order_id = order.code, order.id
    # no reload: the bell's poll brings the new count
    wait_text(browser, (By.ID, "nav-bell-count"), str(before + 1), timeout=30)
    browser.find_element(By.ID, "nav-bell").click()
    item = wait_for(browser, (By.XPATH, f"//a[contains(., '{code}')]"))
    assert "超期" in item.text
    assert item.get_attribute("href").endswith(f"/orders/{order_id}")
    note = item.find_element(By.XPATH, "ancestor::*[contains(@class,'portal-note')]")
    note.find_element(By.XPATH, ".//button[contains(., '标记为已读')]").click()
    expected = str(before) if before else ""
    WebDriverWait(browser, 20).until(
        lambda driver: driver.find_element(By.ID, "nav-bell-count").text == expected
        and unread(database, "head") == before)
    assert not console_errors(browser)


def test_channel_settings_are_saved_for_the_user(live_portal, browser):
    url, _database = live_portal
    sign_in(browser, url, "gridmgr")
    browser.get(url + "/account")
    wait_text(browser, (By.ID, "account-notify-address"), "邮")
    box = wait_for(browser, (By.XPATH, "//div[contains(@id,'sla_warning')]"
                                       "//input[@value='app']"))
    assert box.is_selected()  # the warning in the bell: on by default
    for element in (box, browser.find_element(By.ID, "account-notify-save")):
        # (clicked through the DOM: the card lies below the fold of the test window)
        browser.execute_script("arguments[0].click()", element)
    wait_text(browser, (By.ID, "account-notify-feedback"), "已保存")
    browser.refresh()
    checkbox = wait_for(browser, (By.XPATH, "//div[contains(@id,'sla_warning')]"
                                            "//input[@value='app']"))
    wait_text(browser, (By.ID, "account-notify-address"), "邮")
    assert not checkbox.is_selected()
    assert not console_errors(browser)


def test_an_account_manager_records_a_visit_the_job_planned(live_portal, browser):
    url, database = live_portal
    with database.write() as s:
        visit_job.run(s, utcnow())
    sign_in(browser, url, "account")
    browser.get(url + "/visits")
    item = wait_for(browser, (By.CSS_SELECTOR, "#visits-open .list-group-item"))
    visit_id = item.get_attribute("id").removeprefix("visit-")
    item.find_element(By.CSS_SELECTOR, "input").send_keys("了解二期扩产用电计划")
    item.find_element(By.XPATH, ".//button[contains(., '记录走访')]").click()
    wait_text(browser, (By.ID, "visits-feedback"), "已记录")
    # the list is filled again after the answer: the visit leaves it
    WebDriverWait(browser, 20).until(
        lambda driver: not driver.find_elements(By.ID, f"visit-{visit_id}"))
    assert not console_errors(browser)


def test_a_station_head_reads_the_weekly_briefing_the_job_made(live_portal, browser):
    from station_portal.config import Config
    from station_portal.jobs.registry import briefing
    from station_portal.jobs.runner import RunContext

    url, database = live_portal
    now = utcnow()
    with database.write() as s:
        made = briefing(s, RunContext(slot=now, now=now,
                                      config=Config.from_env({}, environ={})))
    assert made["briefings"] > 0
    sign_in(browser, url, "head")
    browser.get(url + "/briefings")
    wait_text(browser, (By.ID, "brief-body"), "昌邑城区供电服务站")
    wait_text(browser, (By.ID, "brief-body"), "超期工单")
    # the notice the job sent links to the same briefing
    browser.get(url + "/notifications")
    link = wait_for(browser, (By.XPATH, "//a[contains(@href, '/briefings?week=')]"))
    link.click()
    wait_text(browser, (By.ID, "brief-body"), "昌邑城区供电服务站")
    assert not console_errors(browser)
