"""The shipped deployment files agree with the topology that ``scripts/topology`` runs.

No container runtime runs here, so compose.yaml, the Dockerfiles and the systemd units are
checked against ``scripts/topology describe`` (the services, their commands and the names
of their settings, the one list the script starts from): the same services, the same
commands, the same settings, and the same values where a value is not a host, a path or a
secret. The shared templates render, and nginx accepts its file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCRIPT = ROOT / "scripts" / "topology"
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])

# Settings whose value is a policy, not a place: the same in every way the portal is run.
SAME_VALUE = ("PORTAL_ENV", "PORTAL_DATABASE_PGBOUNCER", "PORTAL_TRUSTED_PROXIES",
              "PORTAL_SECURE_COOKIES", "PORTAL_SIMULATE", "PORTAL_LOG_FORMAT",
              "PORTAL_WEB_WORKERS", "PORTAL_WEB_THREADS", "DEPLOY_SEED_DEMO")
# Set by the systemd units themselves (per instance, or their runtime folder).
SET_BY_UNITS = {"PORTAL_PORT", "PROMETHEUS_MULTIPROC_DIR", "PGBOUNCER_RUN", "NGINX_RUN"}


def describe() -> dict:
    out = subprocess.run([sys.executable, str(SCRIPT), "describe"], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_has_the_scripts_services_with_the_same_commands_and_settings():
    topology = describe()
    services = compose()["services"]
    assert set(services) == set(topology["services"]) | {"postgres"}
    for name, expected in topology["services"].items():
        service = services[name]
        assert service["command"] == expected["command"], name
        env = {k: str(v) for k, v in service["environment"].items()}
        assert set(env) == set(expected["env"]) - set(topology["process_only"]), name
        for key in SAME_VALUE:
            if key in expected["env"]:
                assert env[key] == expected["env"][key], (name, key)


def test_compose_wires_pgbouncer_the_web_hosts_and_nginx_together():
    services = compose()["services"]
    portal = services["web1"]["environment"]
    bouncer = services["pgbouncer"]["environment"]
    nginx = services["nginx"]["environment"]
    assert f"@pgbouncer:{bouncer['PGBOUNCER_PORT']}/{bouncer['POSTGRES_DB']}" in portal["DATABASE_URL"]
    assert f"@postgres:5432/{bouncer['POSTGRES_DB']}" in portal["DEPLOY_MIGRATE_DATABASE_URL"]
    assert services["postgres"]["environment"]["POSTGRES_DB"] == bouncer["POSTGRES_DB"]
    assert nginx["WEB1_ADDR"] == f"web1:{services['web1']['environment']['PORTAL_PORT']}"
    assert nginx["WEB2_ADDR"] == f"web2:{services['web2']['environment']['PORTAL_PORT']}"
    nginx_ip = services["nginx"]["networks"]["backend"]["ipv4_address"]
    assert portal["PORTAL_FORWARDED_ALLOW_IPS"] == nginx_ip  # gunicorn believes nginx only
    assert "redis" not in services and "minio" not in services


def test_the_images_run_the_scripts_commands():
    topology = describe()["services"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert re.search(r"^USER portal$", dockerfile, re.M)  # never root
    cmd = re.search(r"^CMD (.+)$", dockerfile, re.M).group(1)
    assert json.loads(cmd) == topology["web1"]["command"]
    for name in ("nginx", "pgbouncer"):
        edge = (DEPLOY / name / "Dockerfile").read_text()
        assert json.loads(re.search(r"^CMD (.+)$", edge, re.M).group(1)) == topology[name]["command"]
        assert re.search(rf"apt-get install .*\b{name}\b", edge)  # Debian's, as the script runs


def test_systemd_units_run_the_same_commands_with_one_env_file():
    topology = describe()["services"]
    units = {p.name: p.read_text() for p in (DEPLOY / "systemd").glob("*.service")}
    commands = {
        "portal-web@.service": topology["web1"]["command"],
        "portal-scheduler.service": topology["scheduler1"]["command"],
        "portal-migrate.service": topology["migrate"]["command"],
        "portal-pgbouncer.service": topology["pgbouncer"]["command"],
        "portal-nginx.service": topology["nginx"]["command"],
    }
    assert set(units) == set(commands)
    for name, command in commands.items():
        text = units[name]
        start = re.search(r"^ExecStart=(.+)$", text, re.M).group(1).split()
        assert Path(start[0]).name == Path(command[0]).name and start[1:] == command[1:], name
        assert "EnvironmentFile=/etc/station-portal/portal.env" in text, name
    assert "Environment=PORTAL_PORT=%i" in units["portal-web@.service"]


def test_the_env_file_example_names_every_setting_of_the_topology():
    topology = describe()
    example = {line.split("=", 1)[0] for line in (DEPLOY / "portal.env.example").read_text().splitlines()
               if re.match(r"^[A-Z][A-Z0-9_]*=", line)}
    wanted = set().union(*(s["env"] for s in topology["services"].values()))
    assert example == wanted - SET_BY_UNITS - set(topology["process_only"])
    units = "".join(p.read_text() for p in (DEPLOY / "systemd").glob("*.service"))
    for name in SET_BY_UNITS:
        assert f"Environment={name}=" in units, name


def test_the_renderer_fills_every_name_and_refuses_a_missing_one(tmp_path):
    template = tmp_path / "t.template"
    template.write_text("listen @PORT@; proxy $host @NAME@@PORT@;\nlocation @fallback {}\n")
    out = tmp_path / "t"
    env = {**os.environ, "PORT": "8443", "NAME": "a b$c"}
    subprocess.run([DEPLOY / "bin" / "render", template, out], env=env, check=True)
    assert out.read_text() == "listen 8443; proxy $host a b$c8443;\nlocation @fallback {}\n"
    env.pop("NAME")
    refused = subprocess.run([DEPLOY / "bin" / "render", template, tmp_path / "u"], env=env,
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "needs NAME" in refused.stderr
    assert not (tmp_path / "u").exists()


@pytest.mark.skipif(shutil.which("nginx", path=SBIN_PATH) is None
                    or shutil.which("openssl") is None,
                    reason="nginx or openssl is not installed (Debian packages nginx, openssl)")
def test_nginx_accepts_the_rendered_file_with_a_fresh_demo_certificate(tmp_path):
    env = {**os.environ, "PATH": SBIN_PATH}
    env.update(describe()["services"]["nginx"]["env"])
    env.update(NGINX_RUN=str(tmp_path / "nginx"), NGINX_ACCESS_LOG=str(tmp_path / "access.log"),
               TLS_CERT=str(tmp_path / "tls" / "demo.crt"), TLS_KEY=str(tmp_path / "tls" / "demo.key"),
               NGINX_USER=os.environ.get("USER") or "root")
    subprocess.run([DEPLOY / "bin" / "demo-cert", env["TLS_CERT"], env["TLS_KEY"]], env=env, check=True)
    assert oct((tmp_path / "tls" / "demo.key").stat().st_mode & 0o777) == "0o600"
    subprocess.run([DEPLOY / "bin" / "render", DEPLOY / "nginx" / "nginx.conf.template",
                    tmp_path / "nginx.conf"], env=env, check=True)
    (tmp_path / "nginx" / "tmp").mkdir(parents=True)
    checked = subprocess.run(["nginx", "-t", "-e", "stderr", "-p", f"{tmp_path}/nginx/", "-c",
                              str(tmp_path / "nginx.conf")], env=env, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    text = (tmp_path / "nginx.conf").read_text()
    for directive in ("Strict-Transport-Security", "gzip on", "proxy_next_upstream error timeout",
                      "limit_req zone=public", "limit_req zone=signin", "X-Request-ID $request_id",
                      "X-Forwarded-For $proxy_add_x_forwarded_for", "proxy_cache static"):
        assert directive in text, directive


def test_no_private_key_is_shipped():
    shipped = subprocess.run(["git", "ls-files", "deploy", "scripts", "Dockerfile", "compose.yaml"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for path in shipped:
        assert "PRIVATE KEY" not in (ROOT / path).read_text(errors="replace"), path


def test_ci_installs_nginx_and_pgbouncer():
    assert re.search(r"\bnginx\b.*\bpgbouncer\b|\bpgbouncer\b.*\bnginx\b", (ROOT / ".ci" / "run").read_text())
