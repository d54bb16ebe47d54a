"""The store of uploads: one contract, kept by the local folder and by S3 (a real s3rver),
and a photo through the app with PORTAL_STORAGE=s3."""

from __future__ import annotations

import hashlib
import io
import secrets
import socket
import stat
from dataclasses import replace

import pytest

from station_portal.config import Config, ConfigError
from station_portal.services import customer as svc
from station_portal.storage import (
    BadKey,
    KeyMissing,
    LocalStorage,
    S3Storage,
    Storage,
    for_config,
)
from tests.helpers import API, head_of, new_repair, token
from tests.s3rver import ACCESS_KEY, BUCKET, REGION, SECRET_KEY, running_s3rver

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    with running_s3rver(tmp_path_factory.mktemp("s3rver")) as endpoint:
        yield endpoint


def s3_settings(endpoint: str) -> dict[str, str]:
    """Settings of a store of its own: a fresh prefix in the test bucket."""
    return {"storage": "s3", "s3_bucket": BUCKET, "s3_endpoint_url": endpoint,
            "s3_region": REGION, "s3_access_key": ACCESS_KEY, "s3_secret_key": SECRET_KEY,
            "s3_prefix": f"test-{secrets.token_hex(6)}"}


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "uploads")
    endpoint = request.getfixturevalue("s3_endpoint")
    return for_config(Config.from_env(s3_settings(endpoint), environ={}))


# -- the contract, on both backends ---------------------------------------------------------

def test_a_file_put_is_read_back_replaced_and_deleted(store):
    assert not store.exists("a1.jpg")
    store.put("a1.jpg", JPEG)
    assert store.exists("a1.jpg") and store.get("a1.jpg") == JPEG
    store.put("a1.jpg", PDF)
    assert store.get("a1.jpg") == PDF, "a second put replaces the file"
    store.delete("a1.jpg")
    assert not store.exists("a1.jpg")
    store.delete("a1.jpg")  # deleting what is not there is no error


def test_a_missing_key_is_keymissing_not_an_empty_file(store):
    with pytest.raises(KeyMissing):
        store.get("never-stored.pdf")
    assert not store.exists("never-stored.pdf")


@pytest.mark.parametrize("key", ["../escape.jpg", "/etc/passwd", ".hidden", "a/../../b",
                                 "a//b", "", "a/", "x" * 200, "a b.jpg", "a\\b", "a/b/c/d/e",
                                 None, 7])
def test_a_key_outside_the_allowed_shape_is_refused(store, key, tmp_path):
    for call in (lambda: store.put(key, PDF), lambda: store.get(key),
                 lambda: store.delete(key), lambda: store.exists(key)):
        with pytest.raises(BadKey):
            call()
    assert store.list() == [], "nothing was written"
    assert not (tmp_path / "escape.jpg").exists()


def test_listing_gives_the_files_under_a_prefix_with_size_and_age(store):
    store.put("pending/tok/kept.json", b"{}")
    store.put("pending/tok/f.bin", PDF)
    store.put("photo.png", JPEG)
    entries = store.list("pending/")
    assert [(e.key, e.size) for e in entries] == [("pending/tok/f.bin", len(PDF)),
                                                  ("pending/tok/kept.json", 2)]
    assert all(e.modified > 0 for e in entries)
    assert {e.key for e in store.list()} == {"pending/tok/kept.json", "pending/tok/f.bin",
                                             "photo.png"}
    with pytest.raises(BadKey):
        store.list("../")


def test_documents_kept_for_a_refused_application_live_and_expire_in_the_store(store):
    token_ = svc.new_pending_token()
    kept = svc.keep_uploads(store, token_, [svc.Upload("identity", "id.pdf", PDF)], now=1000.0)
    assert kept == [svc.Kept("identity", "id.pdf")]
    assert [u.data for _k, u in svc.kept_uploads(store, token_, now=1000.0 + 60)] == [PDF]
    assert svc.prune_pending(store, now=1000.0 + 60) == 0, "not an hour old yet"
    assert svc.prune_pending(store, now=1000.0 + 3601) == 1
    assert store.list("pending/") == []
    svc.keep_uploads(store, token_, [svc.Upload("identity", "id.pdf", PDF)], now=2000.0)
    svc.forget_kept(store, token_)
    assert store.list("pending/") == [], "an application made drops what was kept"


# -- what only one backend does ---------------------------------------------------------------

def test_local_files_are_private_and_no_partial_file_is_left(tmp_path):
    store = LocalStorage(tmp_path / "uploads")
    store.put("pending/tok/f.bin", PDF)
    assert stat.S_IMODE((tmp_path / "uploads").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "uploads" / "pending" / "tok").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "uploads/pending/tok/f.bin").stat().st_mode) == 0o600
    assert [p.name for p in (tmp_path / "uploads/pending/tok").iterdir()] == ["f.bin"]
    store.delete("pending/tok/f.bin")
    assert not (tmp_path / "uploads/pending/tok").exists(), "the emptied folder goes"
    assert (tmp_path / "uploads/pending").is_dir(), "the top-level folder stays"


def test_s3_keys_stay_under_their_prefix(s3_endpoint):
    settings = s3_settings(s3_endpoint)
    mine = for_config(Config.from_env(settings, environ={}))
    whole = S3Storage(BUCKET, endpoint_url=s3_endpoint, region=REGION, access_key=ACCESS_KEY,
                      secret_key=SECRET_KEY)
    mine.put("a1.jpg", JPEG)
    assert whole.get(f"{settings['s3_prefix']}/a1.jpg") == JPEG
    assert [e.key for e in mine.list()] == ["a1.jpg"]


# -- the settings ------------------------------------------------------------------------------

@pytest.mark.parametrize(("settings", "message"), [
    ({"storage": "disk"}, "PORTAL_STORAGE must be 'local' or 's3'"),
    ({"storage": "s3"}, "PORTAL_STORAGE=s3 needs PORTAL_S3_BUCKET"),
    ({"storage": "s3", "s3_bucket": "Bad_Bucket"}, "PORTAL_S3_BUCKET"),
    ({"storage": "s3", "s3_bucket": "portal", "s3_endpoint_url": "minio:9000"},
     "PORTAL_S3_ENDPOINT_URL must be an http"),
    ({"storage": "s3", "s3_bucket": "portal", "s3_access_key": "k"},
     "PORTAL_S3_ACCESS_KEY and PORTAL_S3_SECRET_KEY go together"),
    ({"storage": "s3", "s3_bucket": "portal", "s3_prefix": "../up"}, "PORTAL_S3_PREFIX"),
    ({"storage": "s3", "env": "production", "secret_key": "x" * 40},
     "PORTAL_STORAGE=s3 needs PORTAL_S3_BUCKET"),
])
def test_storage_settings_are_checked_with_a_clear_message(settings, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        Config.from_env(settings, environ={})


def test_storage_settings_are_read_from_the_environment(tmp_path):
    config = Config.from_env(environ={
        "PORTAL_STORAGE": "s3", "PORTAL_S3_BUCKET": "station-uploads",
        "PORTAL_S3_ENDPOINT_URL": "https://minio.internal:9000", "PORTAL_S3_REGION": "cn-north-1",
        "PORTAL_S3_ACCESS_KEY": "AK", "PORTAL_S3_SECRET_KEY": "SK", "PORTAL_S3_PREFIX": "portal/"})
    assert (config.storage, config.s3_bucket, config.s3_prefix) == ("s3", "station-uploads",
                                                                    "portal/")
    local = Config.from_env({"upload_dir": str(tmp_path / "up")}, environ={})
    assert local.storage == "local" and isinstance(for_config(local), LocalStorage)
    assert for_config(local).root == tmp_path / "up"


# -- through the app ---------------------------------------------------------------------------

def photo_on_s3(app, client, db, s3_endpoint, monkeypatch, tmp_path):
    """The portal switched to a store of its own in the S3 bucket (local uploads pointed at
    an empty folder), and a station head's photo posted to a new repair through the API:
    (the portal, the head's token, the answer)."""
    portal = app.extensions["station_portal"]
    monkeypatch.setattr(portal, "config", replace(portal.config, upload_dir=str(tmp_path / "up"),
                                                  **s3_settings(s3_endpoint)))
    head = token(client, head_of(db))
    order_id, _v = new_repair(db)
    sent = client.post(f"{API}/work-orders/{order_id}/attachments",
                       headers={"Authorization": f"Bearer {head}"},
                       data={"file": (io.BytesIO(JPEG), "pole.jpg")},
                       content_type="multipart/form-data")
    return portal, head, sent


def test_a_crew_photo_goes_to_s3_and_is_read_back_through_the_api(app, client, db, s3_endpoint,
                                                                  monkeypatch, tmp_path):
    """With PORTAL_STORAGE=s3 a photo is an object in the bucket, not a file on this host,
    and the API serves it back with the same headers as from the local folder."""
    portal, head, sent = photo_on_s3(app, client, db, s3_endpoint, monkeypatch, tmp_path)
    assert sent.status_code == 201, sent.json
    assert not (tmp_path / "up").exists(), "nothing was written on this host"
    bucket = for_config(portal.config)
    stored = [e.key for e in bucket.list()]
    assert len(stored) == 1 and bucket.get(stored[0]) == JPEG
    back = client.get(sent.json["url"], headers={"Authorization": f"Bearer {head}"})
    assert back.status_code == 200 and back.data == JPEG
    assert back.headers["Content-Type"] == "image/jpeg"
    assert back.headers["X-Content-Type-Options"] == "nosniff"
    assert back.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert back.headers["Content-Disposition"].startswith("inline;")
    assert back.headers["ETag"].strip('"') == hashlib.sha256(JPEG).hexdigest()
    again = client.get(sent.json["url"], headers={"Authorization": f"Bearer {head}",
                                                  "If-None-Match": back.headers["ETag"]})
    assert again.status_code == 304
    bucket.delete(stored[0])
    gone = client.get(sent.json["url"], headers={"Authorization": f"Bearer {head}"})
    assert gone.status_code == 404, "a lost object is a 404 that says so, not a 500"


# -- when the object store is down ---------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_readyz_asks_the_object_store(app, s3_endpoint, monkeypatch):
    """With S3, /readyz looks the bucket up: ready while it answers, 503 'storage' when the
    service is gone (nothing listens on its port)."""
    readiness = app.extensions["station_portal.health"]
    up = Config.from_env(s3_settings(s3_endpoint), environ={})
    config = replace(readiness.config, ready_scheduler_seconds=0, **{
        k: getattr(up, k) for k in ("storage", "s3_bucket", "s3_endpoint_url", "s3_region",
                                    "s3_access_key", "s3_secret_key", "s3_prefix")})
    monkeypatch.setitem(app.extensions, "station_portal.health", replace(readiness, config=config))
    assert "storage" not in [f.check for f in app.extensions["station_portal.health"].failures()]
    assert client_ready(app)
    down = replace(config, s3_endpoint_url=f"http://127.0.0.1:{free_port()}")
    monkeypatch.setitem(app.extensions, "station_portal.health", replace(readiness, config=down))
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert ("storage", "object store unreachable") in \
        [(f.check, f.reason) for f in app.extensions["station_portal.health"].failures()]
    # The service answers but the bucket is not there (never made, or deleted): not ready.
    gone = replace(config, s3_bucket="no-such-bucket-here")
    monkeypatch.setitem(app.extensions, "station_portal.health", replace(readiness, config=gone))
    assert app.test_client().get("/readyz").status_code == 503
    assert not client_ready(app)


def client_ready(app) -> bool:
    failed = app.extensions["station_portal.health"].failures()
    return not [f for f in failed if f.check == "storage"]


def test_a_photo_while_the_store_is_down_is_503_not_500(app, client, db, s3_endpoint,
                                                        monkeypatch, tmp_path):
    portal, head, sent = photo_on_s3(app, client, db, s3_endpoint, monkeypatch, tmp_path)
    assert sent.status_code == 201
    monkeypatch.setattr(portal, "config", replace(
        portal.config, s3_endpoint_url=f"http://127.0.0.1:{free_port()}"))
    back = client.get(sent.json["url"], headers={"Authorization": f"Bearer {head}"})
    assert back.status_code == 503, back.get_data(as_text=True)
    assert back.json["error"] == "storage_unavailable"
    assert "Traceback" not in back.get_data(as_text=True)
