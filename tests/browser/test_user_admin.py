"""An administrator creates an account with a scope, then disables it; the account feels it."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.helpers import browser_sign_in as sign_in
from tests.helpers import (
    choose,
    chromium,
    console_errors,
    wait_clickable,
    wait_for,
    wait_text,
    wait_visible,
)


def test_admin_creates_a_grid_manager_who_then_sees_only_that_office(live_url, browser):
    sign_in(browser, live_url, "admin")
    browser.get(live_url + "/admin/users")
    wait_for(browser, (By.CSS_SELECTOR, "#users-table .ag-row"))
    browser.find_element(By.ID, "users-new").click()
    wait_visible(browser, (By.ID, "users-f-username")).send_keys("li.dasuihe")
    browser.find_element(By.ID, "users-f-display").send_keys("李大绥")
    Select(browser.find_element(By.ID, "users-f-role")).select_by_value("grid_manager")
    wait_text(browser, (By.ID, "users-scope-help"), "供电所")
    choose(browser, "users-f-scope", "大绥河供电所")
    browser.find_element(By.ID, "users-f-password").send_keys("a good long passphrase")

    # a missing staff link is fine for a grid manager; save
    browser.find_element(By.ID, "users-save").click()
    wait_text(browser, (By.ID, "users-feedback"), "li.dasuihe")
    wait_text(browser, (By.ID, "users-table"), "li.dasuihe")

    # the new account signs in elsewhere and sees only its supply office
    other = chromium(1280, 900)
    try:
        sign_in(other, live_url, "li.dasuihe", "a good long passphrase")
        wait_text(other, (By.ID, "home-content"), "大绥河供电所")
        other.get(live_url + "/org")
        wait_text(other, (By.ID, "org-tree"), "大绥河供电所")
        assert "孤店子供电所" not in other.find_element(By.ID, "org-tree").text

        # the admin disables it: the open session ends at once
        browser.find_element(By.CSS_SELECTOR, "#users-editor .btn-close").click()
        row = wait_for(browser, (By.XPATH, "//div[@id='users-table']//div[@col-id='username']"
                                           "[normalize-space()='li.dasuihe']"))
        row.click()
        wait_text(browser, (By.ID, "users-editor-title"), "li.dasuihe")
        wait_clickable(browser, (By.ID, "users-toggle")).click()
        WebDriverWait(browser, 10).until(EC.alert_is_present()).accept()
        wait_text(browser, (By.ID, "users-feedback"), "已停用")
        other.get(live_url + "/org")
        assert "/login" in other.current_url
    finally:
        other.quit()
    assert console_errors(browser) == []
