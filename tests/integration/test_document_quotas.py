"""Filling a case with documents, and the holder's inbox with notifications about them.

Before: a customer could post any number of documents to a case (6 posts stored 90 MB)
and each post notified the case's holders again (6 notifications in 1.4 s). Now a case
holds at most ``max_files_per_case`` files and ``max_mb_per_case`` MB of documents
(``data/application_documents.toml``), a post beyond them is refused whole with a
translated message and stores nothing, and a burst of posts notifies each holder once.
"""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

from sqlalchemy import func, select, update

from station_portal.customer.documents import document_rules
from station_portal.db import utcnow
from station_portal.errors import ValidationFailed
from station_portal.notify.models import Notification
from station_portal.services import applications, customer
from station_portal.workorders.models import Attachment, WorkOrder
from tests.helpers import PDF, csrf_of, site

MB = 1024 * 1024


def _case(db) -> tuple[int, str, str]:
    lat, lon = site(db)
    with db.write() as s:
        order = applications.create_application(s, None, applications.ApplicationInput(
            business_type="new_connection", customer_type="resident", load_kw=8,
            customer_name="王丽", lat=lat, lon=lon, address="吉林市船营区解放路 12 号"))
        return order.id, order.code, customer.grant_access(s, order, channel="online")


def _post(db, order_id: int, uploads: list[customer.Upload], upload_dir):
    with db.write() as s:
        version = s.get(WorkOrder, order_id).version
        return customer.add_documents(s, order_id, version, uploads, upload_dir=upload_dir)


def _documents(db, order_id: int) -> tuple[int, int]:
    with db.read() as s:
        return s.execute(select(func.count(), func.coalesce(func.sum(Attachment.size), 0))
                         .where(Attachment.work_order_id == order_id)).one()


def _pdf(n: int, size: int = 0) -> bytes:
    """A distinct document of about ``size`` bytes."""
    body = PDF + f"%{n}\n".encode()
    return body + b"0" * max(0, size - len(body))


def test_a_case_holds_at_most_its_megabytes_and_a_post_beyond_stores_nothing(db, tmp_path):
    order_id, _number, _code = _case(db)
    rules = document_rules()
    big = 9 * MB + MB // 2  # under the 10 MB of one file
    posts = rules.max_bytes_per_case // big  # 6 posts of 9.5 MB: 57 MB of the 60
    for n in range(posts):
        _post(db, order_id, [customer.Upload("other", f"{n}.pdf", _pdf(n, big))], tmp_path)
    stored = _documents(db, order_id)
    files_before = sorted(p.name for p in tmp_path.iterdir())
    try:
        _post(db, order_id, [customer.Upload("other", "more.pdf", _pdf(99, big))], tmp_path)
        raise AssertionError("the post beyond the quota was stored")
    except ValidationFailed as exc:
        message = exc.fields["documents"]
    assert message == ("A case holds at most 60 MB of documents: this one has 57.0 MB and you "
                       "sent 9.5 MB. Nothing was stored. If we need more from you, call 95598.")
    assert _documents(db, order_id) == stored == (posts, posts * big)
    assert sorted(p.name for p in tmp_path.iterdir()) == files_before, "no file left behind"
    # a small one still fits
    _post(db, order_id, [customer.Upload("other", "small.pdf", _pdf(7, MB))], tmp_path)
    assert _documents(db, order_id)[0] == posts + 1


def test_a_case_holds_at_most_its_files_and_resending_one_is_not_counted(db, tmp_path):
    order_id, _number, _code = _case(db)
    limit = document_rules().max_files_per_case
    for n in range(limit):
        _post(db, order_id, [customer.Upload("other", f"{n}.pdf", _pdf(n))], tmp_path)
    try:
        _post(db, order_id, [customer.Upload("other", "x.pdf", _pdf(limit)),
                             customer.Upload("identity", "y.pdf", _pdf(limit + 1))], tmp_path)
        raise AssertionError("the post beyond the quota was stored")
    except ValidationFailed as exc:
        assert exc.fields["documents"].startswith(
            f"A case holds at most {limit} documents: this one has {limit} and you sent 2.")
    assert _documents(db, order_id)[0] == limit
    try:  # the same file as the same document again: not over the quota, just a duplicate
        _post(db, order_id, [customer.Upload("other", "0.pdf", _pdf(0))], tmp_path)
        raise AssertionError("a duplicate was stored")
    except ValidationFailed as exc:
        assert exc.fields["documents"] == "We already have this file as this document."


def test_a_burst_of_documents_notifies_each_holder_once(db, tmp_path):
    order_id, _number, _code = _case(db)

    def told() -> int:
        with db.read() as s:
            return s.scalar(select(func.count()).select_from(Notification).where(
                Notification.work_order_id == order_id,
                Notification.event == "customer_update"))

    _post(db, order_id, [customer.Upload("other", "0.pdf", _pdf(0))], tmp_path)
    holders = told()
    assert holders >= 1
    for n in range(1, 6):  # five more posts in the same minute
        _post(db, order_id, [customer.Upload("other", f"{n}.pdf", _pdf(n))], tmp_path)
    assert told() == holders, "one notification per holder for the burst"
    # read, and older than the quiet time: the next post is told again
    with db.write() as s:
        s.execute(update(Notification).where(Notification.work_order_id == order_id).values(
            read_at=utcnow(), created_at=utcnow() - customer.DOCUMENTS_QUIET - timedelta(minutes=1)))
    _post(db, order_id, [customer.Upload("other", "6.pdf", _pdf(6))], tmp_path)
    assert told() == 2 * holders
    # read but recent: still quiet
    with db.write() as s:
        s.execute(update(Notification).where(Notification.work_order_id == order_id)
                  .values(read_at=utcnow()))
    _post(db, order_id, [customer.Upload("other", "7.pdf", _pdf(7))], tmp_path)
    assert told() == 2 * holders


def test_the_case_page_refuses_a_post_over_the_quota_in_words(app, db):
    order_id, number, code = _case(db)
    limit = document_rules().max_files_per_case
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.62.0.1"
    page = client.get("/service/track")
    assert client.post("/service/track", data={"n": number, "c": code,
                                               "csrf": csrf_of(page.text)}).status_code == 302
    page = client.get(f"/service/case/{number}")
    version = re.search(r'name="version" value="(\d+)"', page.text)[1]
    files = [(BytesIO(_pdf(n)), f"{n}.pdf") for n in range(limit + 1)]
    answer = client.post(f"/service/case/{number}/documents", data={
        "csrf": csrf_of(page.text), "version": version, "doc_other": files},
        content_type="multipart/form-data")
    assert answer.status_code == 422
    assert f"A case holds at most {limit} documents: this one has 0 and you sent {limit + 1}" \
        in answer.text and "95598" in answer.text
    assert _documents(db, order_id) == (0, 0)


def test_an_online_application_with_too_many_files_is_refused_whole(app, db):
    limit = document_rules().max_files_per_case
    lat, lon = site(db)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.62.1.1"
    page = client.get("/service/apply")
    with db.read() as s:
        before = s.scalar(select(func.count()).select_from(WorkOrder))
    answer = client.post("/service/apply", data={
        "business_type": "new_connection", "customer_type": "resident", "load_kw": "8",
        "customer_name": "王丽", "customer_phone": "13800001111", "lat": str(lat),
        "lon": str(lon), "address": "吉林市船营区解放路 12 号", "accept_terms": "yes",
        "csrf": csrf_of(page.text), "doc_identity": (BytesIO(_pdf(1000)), "id.pdf"),
        "doc_property": (BytesIO(_pdf(1001)), "p.pdf"),
        "doc_other": [(BytesIO(_pdf(n)), f"{n}.pdf") for n in range(limit)]},
        content_type="multipart/form-data")
    assert answer.status_code == 422
    assert f"A case holds at most {limit} documents" in answer.text
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(WorkOrder)) == before
