"""The shipped deployment files agree with the topology that ``scripts/topology`` runs.

No container runtime runs here, so compose.yaml, the Dockerfiles and the systemd units are
checked against ``scripts/topology describe`` (the services, their commands and the names
of their settings, the one list the script starts from): the same services, the same
commands, the same settings, and the same values where a value is not a host, a path or a
secret. The object store is the one stand-in (s3rver in the script, MinIO in compose, an
external store for systemd): its wiring is checked instead of its command. The shared
templates render, nginx accepts its file, and the bucket step makes a bucket in a real
S3-compatible server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml

from tests.s3rver import ACCESS_KEY, REGION, SECRET_KEY, running_s3rver

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCRIPT = ROOT / "scripts" / "topology"
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])

# Settings whose value is a policy, not a place: the same in every way the portal is run.
SAME_VALUE = ("PORTAL_ENV", "PORTAL_DATABASE_PGBOUNCER", "PORTAL_TRUSTED_PROXIES",
              "PORTAL_SECURE_COOKIES", "PORTAL_SIMULATE", "PORTAL_LOG_FORMAT",
              "PORTAL_WEB_WORKERS", "PORTAL_WEB_THREADS", "DEPLOY_SEED_DEMO",
              "PORTAL_STORAGE", "PORTAL_S3_BUCKET", "PORTAL_S3_REGION",
              "DEPLOY_S3_CREATE_BUCKET")
PORTAL_SERVICES = ("migrate", "web1", "web2", "scheduler1", "scheduler2")
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
    assert set(topology["stand_ins"]) == {"objectstore"}
    for name, expected in topology["services"].items():
        if name in topology["stand_ins"]:
            continue  # another program (below)
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
    assert "redis" not in services


def test_compose_runs_minio_and_every_portal_process_uses_its_bucket():
    whole = compose()
    services = whole["services"]
    minio = services["objectstore"]
    assert re.fullmatch(r"minio/minio:RELEASE\.\d{4}-\d\d-\d\dT[\dZ-]+", minio["image"])  # pinned
    assert minio["command"][:2] == ["server", "/data"]
    volume = minio["volumes"][0].split(":")
    assert volume[1] == "/data" and volume[0] in whole["volumes"]  # kept across restarts
    assert "ports" not in minio  # the portal serves every file itself
    assert minio["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]
    secret = minio["environment"]["MINIO_ROOT_PASSWORD"]
    assert secret.startswith("${MINIO_ROOT_PASSWORD:?")  # from the environment, required
    script = {k: v for k, v in describe()["services"]["web1"]["env"].items()
              if k.startswith("PORTAL_S3_") or k == "PORTAL_STORAGE"}
    for name in PORTAL_SERVICES:
        env = services[name]["environment"]
        assert {k: v for k, v in env.items() if k in script}.keys() == script.keys(), name
        assert env["PORTAL_STORAGE"] == "s3" and env["PORTAL_S3_ENDPOINT_URL"] == "http://objectstore:9000"
        assert env["PORTAL_S3_ACCESS_KEY"] == minio["environment"]["MINIO_ROOT_USER"]
        assert env["PORTAL_S3_SECRET_KEY"] == secret
        assert "PORTAL_UPLOAD_DIR" not in env and "volumes" not in services[name], name
        assert services[name]["depends_on"]["objectstore"] == {"condition": "service_healthy"}
    assert services["migrate"]["environment"]["DEPLOY_S3_CREATE_BUCKET"] == "1"
    assert "uploads" not in whole["volumes"]


def test_the_scripts_object_store_keeps_its_data_in_the_run_folder():
    topology = describe()["services"]
    command = topology["objectstore"]["command"]
    assert command[0] == "node" and command[1].endswith("s3rver/bin/s3rver.js")
    directory = Path(command[command.index("--directory") + 1])
    endpoint = topology["web1"]["env"]["PORTAL_S3_ENDPOINT_URL"]
    assert endpoint == f"http://127.0.0.1:{command[command.index('--port') + 1]}"
    assert command[command.index("--address") + 1] == "127.0.0.1"
    migrate = topology["migrate"]["env"]
    assert directory.parent == Path(migrate["PORTAL_INSTANCE_DIR"]).parent  # the run folder


def test_the_images_run_the_scripts_commands():
    topology = describe()["services"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.M)
    assert re.search(r"^USER portal$", dockerfile, re.M)  # never root
    cmd = re.search(r"^CMD (.+)$", dockerfile, re.M).group(1)
    assert json.loads(cmd) == topology["web1"]["command"]
    # deploy/bin/portal-backup runs pg_dump; compose's server is postgres:15 (bookworm's 15).
    assert re.search(r"apt-get install .*\bpostgresql-client\b", dockerfile)
    assert re.search(r"image: postgres:15\b", (ROOT / "compose.yaml").read_text())
    assert re.search(r"^COPY deploy/bin deploy/bin$", dockerfile, re.M)
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
    # Units beside the topology's services (a backup timer, say) use the same env file.
    assert set(commands) <= set(units)
    for name in set(units) - set(commands):
        assert "EnvironmentFile=/etc/station-portal/portal.env" in units[name], name
    for name, command in commands.items():
        text = units[name]
        start = re.search(r"^ExecStart=(.+)$", text, re.M).group(1).split()
        assert Path(start[0]).name == Path(command[0]).name and start[1:] == command[1:], name
        assert "EnvironmentFile=/etc/station-portal/portal.env" in text, name
    assert "Environment=PORTAL_PORT=%i" in units["portal-web@.service"]
    # No unit runs the object store: the env file names an external one.
    assert not [n for n in units if re.search(r"minio|s3|object", n)]
    for name in ("portal-web@.service", "portal-migrate.service", "portal-scheduler.service"):
        assert "PORTAL_S3_" in units[name] and "minio.service" in units[name], name


def test_the_env_file_example_names_every_setting_of_the_topology():
    topology = describe()
    example = {line.split("=", 1)[0] for line in (DEPLOY / "portal.env.example").read_text().splitlines()
               if re.match(r"^[A-Z][A-Z0-9_]*=", line)}
    wanted = set().union(*(s["env"] for s in topology["services"].values()))
    assert example == wanted - SET_BY_UNITS - set(topology["process_only"])
    units = "".join(p.read_text() for p in (DEPLOY / "systemd").glob("*.service"))
    for name in SET_BY_UNITS:
        assert f"Environment={name}=" in units, name
    values = dict(line.split("=", 1) for line in (DEPLOY / "portal.env.example").read_text()
                  .splitlines() if re.match(r"^[A-Z][A-Z0-9_]*=", line))
    assert values["PORTAL_STORAGE"] == "s3" and values["PORTAL_S3_ENDPOINT_URL"].startswith("https://")


def test_the_bucket_step_makes_a_missing_bucket_once_and_says_what_failed(tmp_path):
    """deploy/bin/portal-bucket (portal-migrate runs it) against a real s3rver: a missing
    bucket is made, an existing one left, a store that does not answer and a wrong setting
    fail with a message."""
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                                  os.environ.get("PATH", "")]),
           "PORTAL_ENV": "demo", "PORTAL_STORAGE": "s3", "PORTAL_S3_BUCKET": "made-by-migrate",
           "PORTAL_S3_REGION": REGION, "PORTAL_S3_ACCESS_KEY": ACCESS_KEY,
           "PORTAL_S3_SECRET_KEY": SECRET_KEY, "DEPLOY_S3_WAIT": "1"}
    env.pop("PORTAL_S3_PREFIX", None)
    script = [str(DEPLOY / "bin" / "portal-bucket")]
    with running_s3rver(tmp_path / "s3") as endpoint:
        env["PORTAL_S3_ENDPOINT_URL"] = endpoint
        first = subprocess.run(script, env=env, capture_output=True, text=True, timeout=60)
        again = subprocess.run(script, env=env, capture_output=True, text=True, timeout=60)
        client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                              aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
        buckets = {b["Name"] for b in client.list_buckets()["Buckets"]}
    assert first.returncode == 0 and first.stdout.strip().endswith(": created"), first.stderr
    assert again.returncode == 0 and again.stdout.strip().endswith(": exists"), again.stderr
    assert "made-by-migrate" in buckets
    gone = subprocess.run(script, env=env, capture_output=True, text=True, timeout=60)
    assert gone.returncode == 1 and "did not answer" in gone.stderr
    wrong = subprocess.run(script, env={**env, "PORTAL_S3_BUCKET": "No_Such"},
                           capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "PORTAL_S3_BUCKET" in wrong.stderr


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
