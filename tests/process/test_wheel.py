"""The wheel is self-contained: built, installed outside the checkout, and run from there.

The wheel is built from this checkout (hatchling, ``pip wheel``) and installed into a new
virtual environment in a temporary folder. Its dependencies come from this project's
``.venv`` (a ``.pth`` line naming its site-packages, added after the wheel is installed,
so the checkout itself is never importable: the editable install's own ``.pth`` is not
read). With ``PORTAL_WHEEL_TEST_LOCK=1`` they are installed from ``requirements.lock``
instead, hashes required, as the Dockerfile does (minutes, and the package index).

From a temporary working folder, with no settings but the demo mode, a secret and an
empty ``XDG_DATA_HOME``: ``station-portal db upgrade`` makes the SQLite database in the
wheel's default instance folder (never site-packages), ``seed-demo`` reads the wheel's
data files, and gunicorn with the wheel's own configuration serves ``/healthz``,
``/readyz``, the sign-in page and an asset from the wheel's ``assets/``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import sysconfig
import time
import venv
import zipfile
from pathlib import Path

import pytest
import requests

from tests.helpers import TEST_SECRET, free_port

ROOT = Path(__file__).resolve().parents[2]
FROM_LOCK = os.environ.get("PORTAL_WHEEL_TEST_LOCK") == "1"


def build_wheel(out: Path) -> Path:
    isolation = [] if importlib.util.find_spec("hatchling") else ["--use-pep517"]
    no_isolation = ["--no-build-isolation"] if not isolation else []
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", *no_isolation,
                    *isolation, "-w", str(out), str(ROOT)], check=True, cwd=out)
    (wheel,) = out.glob("station_portal-*.whl")
    return wheel


def shipped(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def git_files(folder: str) -> set[str]:
    out = subprocess.run(["git", "ls-files", folder], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split()
    return {path for path in out if (ROOT / path).is_file()}


def install(wheel: Path, target: Path) -> Path:
    venv.EnvBuilder(with_pip=FROM_LOCK, symlinks=True).create(target)
    python = target / "bin" / "python"
    site = Path(subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip())
    if FROM_LOCK:
        subprocess.run([python, "-m", "pip", "install", "--quiet", "--require-hashes", "--no-deps",
                        "-r", str(ROOT / "requirements.lock")], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)], check=True)
    else:
        # the running pip installs into the new environment (which has no pip of its own)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                        "--ignore-installed", "--prefix", str(target),
                        "--no-warn-script-location", str(wheel)],
                       check=True)
        (site / "zz_portal_project_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def fix_shebangs(target: Path) -> None:
    """``pip install --prefix`` writes console scripts for the interpreter that ran pip: point
    them at the new environment's."""
    for script in (target / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            text = script.read_bytes()
            if text.startswith(b"#!") and b"python" in text.split(b"\n", 1)[0]:
                rest = text.split(b"\n", 1)[1]
                script.write_bytes(b"#!" + str(target / "bin" / "python").encode() + b"\n" + rest)


def wait_for(url: str, server: subprocess.Popen, log: Path, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited {server.returncode}\n{log.read_text()[-4000:]}")
        try:
            return requests.get(url, timeout=5)
        except requests.RequestException:
            time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {url}\n{log.read_text()[-4000:]}")


@pytest.mark.slow
def test_the_wheel_carries_its_resources_and_serves_outside_the_checkout(tmp_path):
    wheel = build_wheel(tmp_path)
    names = shipped(wheel)
    for folder in ("migrations", "data", "assets"):
        wanted = {f"station_portal/_resources/{path}" for path in git_files(folder)}
        assert wanted and wanted <= names, sorted(wanted - names)[:5]
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".sqlite3"))]
    for module in ("station_portal/web/gunicorn_conf.py",
                   "station_portal/i18n/zh_CN/LC_MESSAGES/messages.po"):
        assert module in names, module

    target = tmp_path / "env"
    python = install(wheel, target)
    fix_shebangs(target)
    work = tmp_path / "work"  # not the checkout: nothing here but what the commands make
    work.mkdir()
    data_home = tmp_path / "xdg-data"
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PORTAL_", "PYTHON", "VIRTUAL_ENV", "DATABASE_URL", "SECRET_KEY"))}
    env.update(PORTAL_ENV="demo", SECRET_KEY=TEST_SECRET, XDG_DATA_HOME=str(data_home),
               PORTAL_READY_SCHEDULER_SECONDS="0", PORTAL_WEB_WORKERS="2", PORTAL_WEB_THREADS="2",
               PORTAL_HOST="127.0.0.1", PORTAL_PORT=str(port), PATH=f"{target / 'bin'}:{env['PATH']}",
               PYTHONUNBUFFERED="1")

    def run(*args: str) -> str:
        done = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    where = json.loads(run(str(python), "-c", (
        "import json, station_portal, station_portal.resources as r; print(json.dumps({"
        "'package': station_portal.__file__, 'wheel': r.installed_from_wheel(), "
        "'migrations': str(r.resource_dir('migrations')), 'instance': str(r.instance_dir())}))")))
    assert Path(where["package"]).is_relative_to(target), where  # the wheel, not the checkout
    assert where["wheel"] is True
    assert Path(where["migrations"]).is_relative_to(target)
    assert Path(where["instance"]) == data_home / "station-portal"

    assert "-> " in run(str(target / "bin" / "station-portal"), "db", "upgrade")
    assert (data_home / "station-portal" / "station_portal.sqlite3").is_file()
    assert "at this code's" in run(str(target / "bin" / "station-portal"), "db", "check")
    run(str(target / "bin" / "station-portal"), "seed-demo", "--orders", "50")
    site_packages = Path(where["package"]).parent
    assert not list(site_packages.rglob("*.sqlite3")) and not list(site_packages.rglob("secret_key"))

    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(python), "-m", "gunicorn", "-c", "python:station_portal.web.gunicorn_conf",
             "station_portal:create_app()"],
            cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(f"{base}/healthz", server, log).text == "ok"
        ready = requests.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert requests.get(f"{base}/login", timeout=30).status_code == 200
        asset = requests.get(f"{base}/assets/portal.css", timeout=10)
        assert asset.status_code == 200
        assert asset.content == (ROOT / "assets" / "portal.css").read_bytes()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    text = log.read_text()
    assert "Traceback" not in text, text[-4000:]
