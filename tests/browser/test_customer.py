"""A customer on a phone applies online (site picked on the map, documents uploaded),
gets a number and a code, and another browser opens the case with them."""

from __future__ import annotations

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from station_portal.workorders.models import Attachment, WorkOrder
from tests.helpers import chromium, console_errors, wait_for, wait_text

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_customer_applies_from_a_phone_and_tracks_the_case(live_portal, tmp_path):
    url, database = live_portal
    identity, deed = tmp_path / "id.pdf", tmp_path / "deed.png"
    identity.write_bytes(PDF)
    deed.write_bytes(PNG)
    phone = chromium(390, 844, language="en", phone=True)
    try:
        phone.get(url + "/service?lang=en")
        phone.find_element(By.ID, "start-apply").click()
        wait_for(phone, (By.ID, "apply-form"))
        Select(phone.find_element(By.ID, "business_type")).select_by_value("capacity_increase")
        resident = phone.find_element(By.CSS_SELECTOR, "label[for=customer_type_resident]")
        phone.execute_script("arguments[0].scrollIntoView({block: 'center'})", resident)
        ActionChains(phone).move_to_element(resident).click().perform()
        assert phone.find_element(By.ID, "customer_type_resident").is_selected()
        phone.find_element(By.ID, "load_kw").send_keys("12")
        phone.find_element(By.ID, "customer_name").send_keys("刘洋")
        phone.find_element(By.ID, "customer_phone").send_keys("13712345678")
        phone.find_element(By.ID, "address").send_keys("吉林市昌邑区重庆街 8 号")
        station = phone.find_element(By.CSS_SELECTOR, "#site-map path.portal-site-service_station")
        phone.execute_script("arguments[0].scrollIntoView({block: 'center'})", station)
        ActionChains(phone).move_to_element(station).click().perform()
        WebDriverWait(phone, 5).until(lambda d: d.find_element(By.ID, "lat").get_attribute("value"))
        assert float(phone.find_element(By.ID, "lon").get_attribute("value")) > 120
        phone.find_element(By.ID, "doc_identity").send_keys(str(identity))
        phone.find_element(By.ID, "doc_property").send_keys(str(deed))
        terms = phone.find_element(By.CSS_SELECTOR, "label[for=accept_terms]")
        phone.execute_script("arguments[0].scrollIntoView({block: 'center'})", terms)
        ActionChains(phone).move_to_element(terms).click().perform()
        assert phone.find_element(By.ID, "accept_terms").is_selected()
        # the send button, as a tap does it (a pointer click at the bottom of an emulated
        # phone page can miss in a slow headless browser)
        phone.execute_script("arguments[0].form.requestSubmit(arguments[0])",
                             phone.find_element(By.ID, "apply-submit"))
        number = wait_for(phone, (By.ID, "case-number")).text
        code = phone.find_element(By.ID, "case-code").text
        phone.find_element(By.ID, "case-open").click()
        wait_text(phone, (By.ID, "case-steps"), "Metering and connection")
        assert console_errors(phone) == []
    finally:
        phone.quit()
    with database.read() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.code == number))
        assert order.business_type == "capacity_increase" and order.counter_visits == 0
        assert len(s.scalars(select(Attachment).where(Attachment.work_order_id == order.id)).all()) == 2

    other = chromium(1280, 900, language="en")
    try:
        other.get(url + f"/service/case/{number}")
        wait_for(other, (By.ID, "track-form"))  # no access without the code
        other.find_element(By.ID, "c").send_keys(code)
        other.find_element(By.ID, "track-submit").click()
        wait_text(other, (By.ID, "case-status"), "In progress")
        assert "刘洋" not in other.page_source or number in other.page_source
    finally:
        other.quit()
