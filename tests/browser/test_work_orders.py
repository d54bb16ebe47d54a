"""A station head opens the repair list, then an application, and pauses its clock."""

from __future__ import annotations

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from station_portal.auth.models import User
from station_portal.workorders.models import WorkOrder
from tests.helpers import browser_sign_in as sign_in
from tests.helpers import console_errors, wait_for, wait_text, wait_visible


def test_head_lists_repairs_opens_one_and_pauses_an_application(live_portal, browser):
    live_url, database = live_portal
    sign_in(browser, live_url, "head")
    browser.get(live_url + "/orders/repairs")
    # the grid draws its first block of rows in steps: wait for ten of them
    WebDriverWait(browser, 20).until(lambda d: len(d.find_elements(
        By.CSS_SELECTOR, "#orders-grid .ag-center-cols-container .ag-row")) >= 10)
    WebDriverWait(browser, 20, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#orders-grid .ag-center-cols-container .ag-row")
        .click() or True)
    wait_for(browser, (By.ID, "order-clocks"))
    assert "/order?id=" in browser.current_url
    clocks = browser.find_element(By.ID, "order-clocks").text
    assert "到达现场" in clocks and "恢复供电" in clocks

    browser.get(live_url + "/orders/applications")
    wait_for(browser, (By.CSS_SELECTOR, "#orders-grid .ag-center-cols-container .ag-row"))
    # the floating filter on the status column narrows the list on the server
    status_filter = browser.find_elements(By.CSS_SELECTOR,
                                          "#orders-grid .ag-floating-filter input")[1]
    status_filter.send_keys("办理中")

    def only_in_progress(driver) -> bool:
        cells = driver.find_elements(By.CSS_SELECTOR, "#orders-grid .ag-center-cols-container "
                                                      ".ag-row [col-id='status']")
        return bool(cells) and all(c.text == "办理中" for c in cells)

    def click_first_row(driver) -> bool:
        driver.find_element(By.CSS_SELECTOR, "#orders-grid .ag-center-cols-container .ag-row") \
            .click()
        return True

    # the grid re-renders its rows as blocks arrive: retry on a row that went stale
    patient = WebDriverWait(browser, 20, ignored_exceptions=[StaleElementReferenceException])
    patient.until(only_in_progress)
    patient.until(click_first_row)
    wait_for(browser, (By.ID, "order-holder"))
    assert "/order?id=" in browser.current_url

    # Pause one that runs (the first row may be held by a grid-works project another test
    # linked, whose pause only the project ends).
    with database.read() as s:
        head = s.scalar(select(User).where(User.username == "head"))
        running = s.scalar(select(WorkOrder.id).where(
            WorkOrder.kind == "application", WorkOrder.status == "in_progress",
            WorkOrder.paused.is_(False), WorkOrder.unit_id == head.scope_unit_id)
            .order_by(WorkOrder.id.desc()).limit(1))
    browser.get(f"{live_url}/order?id={running}")
    wait_for(browser, (By.ID, "order-holder"))
    WebDriverWait(browser, 20).until(lambda d: "pause" in [
        o.get_attribute("value") for o in Select(d.find_element(By.ID, "order-action")).options])
    Select(browser.find_element(By.ID, "order-action")).select_by_value("pause")
    Select(wait_visible(browser, (By.ID, "order-pause-reason"))).select_by_value(
        "customer_documents")
    browser.find_element(By.ID, "order-note").send_keys("浏览器测试")
    browser.find_element(By.ID, "order-submit").click()
    wait_for(browser, (By.ID, "order-feedback-alert"))
    assert "已完成" in browser.find_element(By.ID, "order-feedback").text
    wait_text(browser, (By.ID, "order-timeline"), "时限暂停")
    assert "浏览器测试" in browser.find_element(By.ID, "order-timeline").text
    assert console_errors(browser) == []
