"""A station head signs in, opens the Organisation page, and switches languages."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from tests.helpers import browser_sign_in as sign_in
from tests.helpers import chromium, console_errors, wait_for, wait_text, wait_visible


def test_station_head_sees_their_station_map_and_switches_language(live_url, browser):
    sign_in(browser, live_url, "head")
    wait_for(browser, (By.ID, "home-content"))
    browser.find_element(By.ID, "nav-org").click()

    # the tree holds the station with its three groups (Chinese: the browser's language)
    wait_text(browser, (By.ID, "org-tree"), "昌邑城区供电服务站")
    tree = browser.find_element(By.ID, "org-tree").text
    for group in ("内勤服务组", "低压抢修组", "外勤服务组"):
        assert group in tree
    assert "船营城区供电服务站" not in tree  # another station is not shown
    wait_text(browser, (By.ID, "org-unit-name"), "昌邑城区供电服务站")
    # the territory map is drawn (MapLibre canvas inside the Plotly figure)
    wait_for(browser, (By.CSS_SELECTOR, "#org-map .maplibregl-canvas, #org-map canvas"))
    assert "组织机构" in browser.find_element(By.ID, "nav-org").text

    # switch to English: the page reloads in English and stays so
    browser.find_element(By.ID, "lang-en").click()
    wait_text(browser, (By.ID, "nav-org"), "Organisation")
    wait_text(browser, (By.ID, "org-tree"), "Changyi Urban Service Station")
    assert "Office Services Group" in browser.find_element(By.ID, "org-tree").text
    browser.get(live_url + "/org")
    wait_text(browser, (By.ID, "nav-org"), "Organisation")

    # and back to Chinese
    browser.find_element(By.ID, "lang-zh_CN").click()
    wait_text(browser, (By.ID, "nav-org"), "组织机构")
    wait_text(browser, (By.ID, "org-tree"), "昌邑城区供电服务站")
    assert console_errors(browser) == []


def test_clicking_a_group_shows_its_staff_and_crews(live_url, browser):
    sign_in(browser, live_url, "head")
    browser.get(live_url + "/org")
    link = wait_for(browser, (By.PARTIAL_LINK_TEXT, "低压抢修组"))
    link.click()
    wait_text(browser, (By.ID, "org-unit-name"), "低压抢修组")
    wait_for(browser, (By.CSS_SELECTOR, "#org-staff-table .ag-row"))
    rows = browser.find_elements(By.CSS_SELECTOR, "#org-staff-table .ag-center-cols-container .ag-row")
    assert len(rows) == 10
    assert "unit=" in browser.current_url
    assert console_errors(browser) == []


def test_the_layout_works_on_a_phone(live_url):
    phone = chromium(390, 844, phone=True)
    try:
        sign_in(phone, live_url, "gridmgr")
        wait_text(phone, (By.ID, "home-content"), "孤店子供电所")
        # the menu folds behind the toggler and opens on tap
        assert not phone.find_element(By.ID, "nav-org").is_displayed()
        phone.find_element(By.ID, "nav-toggle").click()
        wait_visible(phone, (By.ID, "nav-org")).click()
        wait_text(phone, (By.ID, "org-tree"), "孤店子供电所")
        width = phone.execute_script("return document.documentElement.scrollWidth")
        assert width <= 400, "the page must not scroll sideways on a phone"
        assert console_errors(phone) == []
    finally:
        phone.quit()


def test_signing_out_really_ends_the_session(live_url, browser):
    sign_in(browser, live_url, "crew")
    wait_text(browser, (By.ID, "home-content"), "JL-CY-S-R1")
    browser.find_element(By.ID, "user-menu").click()
    wait_for(browser, (By.ID, "sign-out")).click()
    wait_for(browser, (By.ID, "username"))
    browser.get(live_url + "/org")
    assert "/login" in browser.current_url
