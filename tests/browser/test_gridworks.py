"""A company manager opens a grid-works project from the list, marks its first milestone
done and sees the application that waits on it."""

from __future__ import annotations

from datetime import timedelta

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from station_portal.db import utcnow
from station_portal.gridworks.models import MILESTONES, GridWorksProject
from station_portal.org.models import Unit
from station_portal.services import applications
from station_portal.services import gridworks as gw
from station_portal.timefmt import local
from tests.helpers import account, console_errors, wait_for, wait_text
from tests.helpers import browser_sign_in as sign_in

CHANGYI = (43.8817, 126.5744)


def test_a_manager_completes_a_milestone_and_sees_the_waiting_application(live_portal, browser):
    url, database = live_portal
    today = local(utcnow()).date()
    when = utcnow() - timedelta(hours=2)
    with database.write() as s:
        order = applications.create_application(s, account(s, "head"), applications.ApplicationInput(
            business_type="new_connection", customer_type="non_resident", load_kw=800.0,
            customer_name="吉林浏览器测试有限公司", lat=CHANGYI[0], lon=CHANGYI[1],
            address="昌邑区解放路2号", applied_at=when), accept=True, now=when)
        project = gw.create_project(s, account(s, "manager"), gw.ProjectInput(
            name="浏览器测试配套工程", code="GW-BROWSER-1",
            unit_id=s.scalar(select(Unit.id).where(Unit.code == "JL-CY-S")),
            planned={c: (today + timedelta(days=2 + 9 * i)).isoformat()
                     for i, c in enumerate(MILESTONES)}, funds_expected=260))
        gw.link_application(s, account(s, "head"), project.id, project.version, order.code)
        project_id, code = project.id, order.code

    sign_in(browser, url, "manager")
    browser.get(url + "/gridworks")
    row = f"#gw-grid .ag-center-cols-container .ag-row[row-id='{project_id}']"
    wait_for(browser, (By.CSS_SELECTOR, row))
    WebDriverWait(browser, 20, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: d.find_element(By.CSS_SELECTOR, row).click() or True)
    wait_for(browser, (By.ID, "gwp-applications"))
    assert f"/gridworks/project?id={project_id}" in browser.current_url
    assert code in browser.find_element(By.ID, "gwp-applications").text
    browser.find_element(By.ID, "gwp-ms-done").click()  # the first milestone, done today
    wait_text(browser, (By.ID, "gwp-milestones"), today.isoformat())
    assert code in browser.find_element(By.ID, "gwp-applications").text
    assert console_errors(browser) == []
    with database.read() as s:
        p = s.get(GridWorksProject, project_id)
        assert p.milestones[0].actual_on == today and p.status == "in_progress"
