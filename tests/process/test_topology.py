"""The production topology end to end, as plain processes: ``scripts/topology``.

On a fresh PostgreSQL database of its own and ports chosen now: ``up`` starts the object
store (s3rver) and PgBouncer, makes the bucket, migrates and seeds, starts two gunicorn
hosts, two schedulers and nginx. Then, over real HTTPS through nginx (trusting the demo
certificate the start made): the probes, HSTS, gzip and the static cache, the redirect from
HTTP, /metrics kept off the edge, the request id and the client address as the portal logs
them, a sign-in and a page, a public page, a rate limit; exactly one scheduler active; a
photo uploaded through nginx that is an object in the store's bucket (read with boto3, not
through the portal) and comes back byte for byte from the other web host; one web host
killed while requests keep coming, and none of them lost; the object store stopped, and
/readyz and a download saying so; ``down`` leaves no process behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import boto3
import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.helpers import csrf_of, free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "topology"
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
PASSWORD = "Topology-trial-2026!"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 64


def skip_reason() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return "the topology runs on PostgreSQL: set TEST_DATABASE_URL to a PostgreSQL server"
    missing = [tool for tool in ("nginx", "pgbouncer", "openssl")
               if shutil.which(tool, path=SBIN_PATH) is None]
    if missing:
        return f"{', '.join(missing)} not installed (Debian packages; .ci/run installs them)"
    if shutil.which("node") is None:
        return "the object store (s3rver) needs node: not found"
    if not (ROOT / ".cache" / "s3rver" / "node_modules" / "s3rver").is_dir():
        return "s3rver is not installed: npm install --prefix .cache/s3rver s3rver@3.7.1 (.ci/run)"
    return None


pytestmark = [pytest.mark.slow, pytest.mark.skipif(skip_reason() is not None,
                                                   reason=skip_reason() or "")]


def topology(run: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--run-dir", str(run), *args],
                          capture_output=True, text=True, timeout=timeout, check=False)


def group_members(pgid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            out.append(int(stat.parent.name))
    return out


def wait_until(predicate, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def json_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


class Edge:
    """HTTPS through nginx, trusting only the demo certificate of this run."""

    def __init__(self, run: Path, port: int) -> None:
        self.base = f"https://127.0.0.1:{port}"
        self.cert = str(run / "tls" / "demo.crt")

    def session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would replace the demo certificate
        session.verify = self.cert
        return session


@pytest.fixture
def fresh_database_name():
    """A database of its own on the test server, dropped afterwards (PgBouncer pools per
    database, so a schema on the search path would not do)."""
    server = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"portal_topology_{os.environ.get('PORTAL_TEST_RUN', 'x')}_{uuid.uuid4().hex[:8]}"
    yield name, server
    engine = create_engine(server.set(drivername="postgresql+psycopg", database="postgres"),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def test_topology_up_serves_over_tls_fails_over_and_comes_down(tmp_path, fresh_database_name):
    name, server = fresh_database_name
    run = tmp_path / "run"
    ports = {"https": free_port(), "http": free_port(), "pgbouncer": free_port(),
             "web1": free_port(), "web2": free_port(), "s3": free_port()}
    assert len(set(ports.values())) == 6
    postgres = server.set(drivername="postgresql", database=None).render_as_string(hide_password=False)
    try:
        started = time.monotonic()
        up = topology(run, "up", "--database", name, "--postgres", postgres, "--orders", "0",
                      "--https-port", str(ports["https"]), "--http-port", str(ports["http"]),
                      "--pgbouncer-port", str(ports["pgbouncer"]), "--s3-port", str(ports["s3"]),
                      "--web-ports", f"{ports['web1']},{ports['web2']}", "--timeout", "120")
        up_seconds = time.monotonic() - started
        assert up.returncode == 0, up.stdout + up.stderr
        assert re.search(r"^up in [\d.]+ s", up.stdout, re.M), up.stdout
        print(f"\ntopology up in {up_seconds:.1f} s:\n{up.stdout}")
        state = json.loads((run / "topology.json").read_text())
        pids = {n: r["pid"] for n, r in state["processes"].items()}
        assert set(pids) == {"objectstore", "pgbouncer", "web1", "web2", "scheduler1",
                             "scheduler2", "nginx"}
        for service, pid in pids.items():
            assert (run / "pids" / f"{service}.pid").read_text().strip() == str(pid)
        groups = {n: set(group_members(pid)) for n, pid in pids.items()}
        assert all(groups.values()), groups

        edge = Edge(run, ports["https"])
        web = edge.session()
        _probes_and_edge_headers(edge, web, run, ports)
        _one_scheduler_active(run, pids)
        signed_in = _sign_in_and_open_pages(edge, run)
        photo = _photo_lands_in_the_bucket(edge, run, ports, name, server)
        _failover(edge, signed_in, run, pids["web1"])

        status = topology(run, "status", "--json")
        report = json.loads(status.stdout)
        assert status.returncode == 1 and not report["processes"]["web1"]["running"]
        assert report["processes"]["web2"]["running"] and report["probes"]["nginx /readyz"] == 200
        assert report["processes"]["objectstore"]["running"]
        assert report["probes"]["objectstore port"] == 200

        _abuse_run(run, ports["https"])
        _signin_rate_limit(edge)
        _object_store_stopped(edge, photo, pids["objectstore"])

        everything = set().union(*groups.values()) | {
            p for pid in pids.values() for p in group_members(pid)}
        started = time.monotonic()
        down = topology(run, "down", timeout=120)
        print(f"down in {time.monotonic() - started:.1f} s")
        assert down.returncode == 0, down.stdout + down.stderr
        # Every process it started was in one of those groups (a pid alone may be reused).
        left = {n: group_members(pid) for n, pid in pids.items() if group_members(pid)}
        assert not left, f"still running after down: {left} (of {sorted(everything)})"
        assert not list((run / "pids").iterdir())
        assert json.loads(topology(run, "status", "--json").stdout)["up"] is False
    finally:
        topology(run, "down", timeout=120)


def _probes_and_edge_headers(edge: Edge, web: requests.Session, run: Path, ports: dict) -> None:
    live = web.get(f"{edge.base}/healthz", timeout=10)
    assert live.status_code == 200 and live.text == "ok"
    assert live.headers["Strict-Transport-Security"].startswith("max-age=")
    ready = web.get(f"{edge.base}/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}, ready.text

    moved = requests.get(f"http://127.0.0.1:{ports['http']}/service?x=1", allow_redirects=False,
                         timeout=10)
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"https://127.0.0.1:{ports['https']}/service?x=1"

    # /metrics is scraped on each host with its token, never through the edge.
    assert web.get(f"{edge.base}/metrics", timeout=10).status_code == 404
    token = (run / "portal.env").read_text().split("PORTAL_METRICS_TOKEN=", 1)[1].split()[0]
    scrape = requests.get(f"http://127.0.0.1:{ports['web1']}/metrics", timeout=10,
                          headers={"Authorization": f"Bearer {token}"})
    assert scrape.status_code == 200 and "portal_scheduler_lease_held 1.0" in scrape.text

    # Static files: compressed, and kept by nginx after the first request.
    css = [web.get(f"{edge.base}/assets/portal.css", timeout=10,
                   headers={"Accept-Encoding": "gzip"}) for _ in range(2)]
    assert [r.status_code for r in css] == [200, 200]
    assert css[0].headers["Content-Encoding"] == "gzip"
    assert css[1].headers["X-Cache-Status"] == "HIT"
    assert "Set-Cookie" not in css[1].headers

    # nginx's request id reaches the portal's log; a forged X-Forwarded-For does not make
    # the portal believe another client address (it trusts the last hop, nginx's).
    forged = web.get(f"{edge.base}/healthz", timeout=10,
                     headers={"X-Forwarded-For": "203.0.113.9"})
    request_id = forged.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)

    def logged():
        lines = [r for host in ("web1", "web2") for r in json_lines(run / "logs" / f"{host}.log")
                 if r.get("request_id") == request_id and r.get("logger") == "station_portal.request"]
        return lines[0] if lines else None

    line = wait_until(logged, "the request's line in a web host's log", timeout=10)
    assert line["remote"] == "127.0.0.1"
    access = wait_until(lambda: [r for r in json_lines(run / "logs" / "nginx-access.log")
                                 if r["request_id"] == request_id], "nginx's access line", 10)
    assert access[0]["status"] == 200 and access[0]["upstream"] in {
        f"127.0.0.1:{ports['web1']}", f"127.0.0.1:{ports['web2']}"}


def _one_scheduler_active(run: Path, pids: dict) -> None:
    def both_said():
        said = {n: " ".join(r.get("message", "") for r in json_lines(run / "logs" / f"{n}.log"))
                for n in ("scheduler1", "scheduler2")}
        active = [n for n, text in said.items() if " active with " in text]
        standing = [n for n, text in said.items() if "standing by" in text]
        return (active, standing) if active and standing else None

    active, standing = wait_until(both_said, "one scheduler active and one standing by", 60)
    assert len(active) == 1 and len(standing) == 1 and active != standing
    status = json.loads(topology(run, "status", "--json").stdout)
    assert status["active_scheduler"] == active[0]
    assert status["lease"]["holder"].endswith(f":{pids[active[0]]}") and status["lease"]["live"]


def _sign_in_and_open_pages(edge: Edge, run: Path) -> requests.Session:
    # Production mode seeds the organisation without accounts: make one as an operator would.
    made = topology(run, "run", "--", "station-portal", "create-user", "topohead", "--role",
                    "station_head", "--unit", "JL-CY-S", "--password", PASSWORD, timeout=120)
    assert made.returncode == 0 and "created topohead" in made.stdout, made.stdout + made.stderr

    public = edge.session()
    landing = public.get(f"{edge.base}/service", timeout=10)
    assert landing.status_code == 200 and 'lang="' in landing.text
    track = public.get(f"{edge.base}/service/track", timeout=10)
    assert track.status_code == 200 and 'name="csrf"' in track.text

    user = edge.session()
    form = user.get(f"{edge.base}/login", timeout=10)
    signed = user.post(f"{edge.base}/login", allow_redirects=False, timeout=30, data={
        "username": "topohead", "password": PASSWORD, "csrf": csrf_of(form.text)})
    assert signed.status_code == 302, signed.text[:500]
    cookie = next(c for c in user.cookies if c.name == "portal_session")
    assert cookie.secure  # production behind TLS: the cookie never travels in clear
    page = user.get(f"{edge.base}/dispatch", timeout=30)
    assert page.status_code == 200 and "_dash-config" in page.text
    me = user.get(f"{edge.base}/api/v1/me", timeout=10)
    assert me.status_code == 200 and me.json()["username"] == "topohead"
    return user


def _photo_lands_in_the_bucket(edge: Edge, run: Path, ports: dict, database: str,
                               server) -> tuple[str, str]:
    """A station head's photo of a new repair, posted through nginx, is an object in the
    store's bucket (read with boto3, not through the portal), and the web host that did not
    take the upload serves it back byte for byte. Returns (the photo's URL, the token)."""
    session = edge.session()
    issued = session.post(f"{edge.base}/api/v1/tokens", timeout=30,
                          json={"username": "topohead", "password": PASSWORD})
    assert issued.status_code == 201, issued.text
    bearer = {"Authorization": f"Bearer {issued.json()['token']}"}
    engine = create_engine(server.set(drivername="postgresql+psycopg", database=database))
    with engine.connect() as conn:
        lat, lon = conn.execute(text("SELECT lat, lon FROM units WHERE code = 'JL-CY-S'")).one()
    engine.dispose()
    repair = session.post(f"{edge.base}/api/v1/repairs", headers=bearer, timeout=30, json={
        "source": "hotline_95598", "category": "low_voltage", "urgency": 2, "lat": lat,
        "lon": lon, "address": "吉林市昌邑区拓扑路1号"})
    assert repair.status_code == 201, repair.text
    sent = session.post(f"{edge.base}/api/v1/work-orders/{repair.json()['id']}/attachments",
                        headers=bearer, files={"file": ("pole.jpg", JPEG, "image/jpeg")},
                        timeout=30)
    assert sent.status_code == 201, sent.text
    assert sent.json()["sha256"] == hashlib.sha256(JPEG).hexdigest()

    env = (run / "portal.env").read_text()
    assert "PORTAL_STORAGE=s3" in env and "PORTAL_UPLOAD_DIR" not in env
    store = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{ports['s3']}",
                         region_name="us-east-1", aws_access_key_id="S3RVER",
                         aws_secret_access_key="S3RVER")
    objects = store.list_objects_v2(Bucket="portal").get("Contents", [])
    photos = [o["Key"] for o in objects if o["Key"].endswith(".jpg")]
    assert len(photos) == 1, objects
    assert store.get_object(Bucket="portal", Key=photos[0])["Body"].read() == JPEG
    assert not (run / "uploads").exists(), "nothing was written on the hosts' disk"

    request_id = sent.headers["X-Request-ID"]
    took = wait_until(lambda: [r["upstream"] for r in json_lines(run / "logs" / "nginx-access.log")
                               if r["request_id"] == request_id], "the upload's access line", 10)
    other = "web2" if took[-1] == f"127.0.0.1:{ports['web1']}" else "web1"
    url = sent.json()["url"]
    back = requests.get(f"http://127.0.0.1:{ports[other]}{url}", headers=bearer, timeout=30)
    assert back.status_code == 200 and back.content == JPEG, (other, back.status_code)
    assert back.headers["Content-Type"] == "image/jpeg"
    ready = session.get(f"{edge.base}/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}, ready.text
    print(f"photo: uploaded through {took[-1]}, read back from {other}, object {photos[0]}")
    return url, bearer["Authorization"]


def _object_store_stopped(edge: Edge, photo: tuple[str, str], pid: int) -> None:
    """With the object store gone, /readyz says 'storage' and a download is a 503 that says
    the store is unavailable (never a 500); ``down`` copes with it being stopped already."""
    os.killpg(pid, signal.SIGTERM)
    wait_until(lambda: not group_members(pid), "the object store gone", 10)
    session = edge.session()
    ready = session.get(f"{edge.base}/readyz", timeout=30)
    assert ready.status_code == 503, ready.text
    assert {"check": "storage", "reason": "object store unreachable"} in ready.json()["failed"]
    url, bearer = photo
    download = session.get(f"{edge.base}{url}", headers={"Authorization": bearer}, timeout=60)
    assert download.status_code == 503, download.text[:300]
    assert "storage_unavailable" in download.text


def _failover(edge: Edge, signed_in: requests.Session, run: Path, web1_pid: int) -> None:
    """Kill web1 (master and workers) while four clients keep asking; count what is lost."""
    results: list[tuple[float, int | str, str, float]] = []
    stop = threading.Event()
    killed_at: list[float] = []

    def client(n: int) -> None:
        session = edge.session()
        session.cookies.update(signed_in.cookies)
        paths = ("/api/v1/me", "/healthz")
        i = 0
        while not stop.is_set():
            path = paths[(i + n) % 2]
            i += 1
            sent = time.monotonic()
            try:
                code: int | str = session.get(f"{edge.base}{path}", timeout=15).status_code
            except requests.RequestException as exc:
                code = type(exc).__name__
            results.append((sent, code, path, time.monotonic() - sent))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        killed_at.append(time.monotonic())
        os.killpg(web1_pid, signal.SIGKILL)
        wait_until(lambda: not group_members(web1_pid), "web1 gone", 10)
        time.sleep(3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    # A request still in flight when web1 dies may be cut after its headers (nginx can
    # resend only what web1 had not started answering): at most one per client.
    before = [r for r in results if r[0] + r[3] < killed_at[0]]
    in_flight = [r for r in results if r[0] < killed_at[0] <= r[0] + r[3]]
    after = [r for r in results if r[0] >= killed_at[0]]
    lost = [r for r in after if r[1] != 200]
    cut = [r for r in in_flight if r[1] != 200]
    slowest = sorted(r[3] for r in after)
    print(f"failover: {len(before)} requests before the kill, {len(in_flight)} in flight "
          f"({len(cut)} cut), {len(after)} after, lost {len(lost)} "
          f"{dict(Counter(r[1] for r in lost))}; after the kill p99 "
          f"{slowest[int(len(slowest) * 0.99)] * 1000:.0f} ms, slowest {slowest[-1] * 1000:.0f} ms")
    assert before and len(after) >= 20
    assert not [r for r in before if r[1] != 200]
    assert len(cut) <= len(threads), cut
    assert not lost, Counter((r[1], r[2]) for r in lost)
    since = [r for r in json_lines(run / "logs" / "nginx-access.log") if r["uri"] == "/api/v1/me"]
    assert since[-1]["status"] == 200


def _abuse_run(run: Path, https_port: int) -> None:
    """benchmarks/abuse.py through nginx from many networks (one host left after the
    failover): owners and customers still get in, quotas and caps hold."""
    from benchmarks import abuse

    rows = abuse.run(run, https_port)
    print("\n".join(f"abuse: {r['attack']}: {r['attacker']} | {r['owner']}" for r in rows))
    assert [r["attack"] for r in rows if not r["ok"]] == [], rows


def _signin_rate_limit(edge: Edge) -> None:
    """POST /api/v1/tokens: 10 a minute with a burst of 5 from one address, then 429."""
    session = edge.session()
    answers = [session.post(f"{edge.base}/api/v1/tokens", timeout=10,
                            json={"username": "nobody-here", "password": "wrong password"})
               for _ in range(10)]
    codes = [a.status_code for a in answers]
    assert codes[0] != 429 and 429 in codes, codes
    assert any(a.status_code == 429 and "nginx" in a.text for a in answers)  # the edge's own
