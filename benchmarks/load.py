"""Load test against the production topology (scripts/topology): steps to the ceiling, failover.

    scripts/topology --run-dir RUN up --demo ...            # first: the topology in demo mode
    python benchmarks/load.py prepare  --run-dir RUN        # load accounts, halls open all day
    python benchmarks/load.py steps    --run-dir RUN [--steps 10,20,40,80] [--hold 60]
    python benchmarks/load.py failover --run-dir RUN [--users 40] [--pg-data /tmp/loadpg]

``prepare`` makes, in the topology's own database, one station-head account per service
station and one crew account per crew (password portal-demo; demo mode only), and opens
the demo halls around the clock so that kiosks take tickets at any hour of the run.

``steps`` ramps the mixed users of ``benchmarks/_load_users.py`` (heads on the dispatch
board, managers on dashboards, crews on the API, customers tracking, kiosks) step by step
through nginx over HTTPS; per step, after a warm-up, it holds the users for ``--hold``
seconds and prints users, requests/s, p50/p95/p99 per request group and the errors. The
ceiling is the largest step with p95 < 500 ms in every request group of 20 or more requests
and no error (also given: by the p95 of all requests). JSON goes to
``--json``.

``failover`` holds ``--users`` steady, kills web1 with SIGKILL (master and workers: its
process group), starts it again, then restarts PostgreSQL (``pg_ctl restart`` on
``--pg-data``: a cluster of the load test's own, never the machine's shared one), and
reports per event the failed requests, the POSTs among them, and the time until every
request succeeds again; afterwards it checks in the database that every crew step,
position, repair and ticket the load generator got a 2xx for is there.

The load generator runs on the same machine as the topology (one Python process, one
core at most): it is part of the load. Needs ``pip install -e '.[load]'`` (Locust).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
P95_LIMIT_MS = 500
MIN_SAMPLES = 20  # a group judged by its p95 needs this many requests in the step
DEMO_PASSWORD = "portal-demo"


def read_env(run: Path) -> dict[str, str]:
    out = {}
    for line in (run / "portal.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _sep, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def state(run: Path) -> dict[str, Any]:
    return json.loads((run / "topology.json").read_text())


def machine() -> dict[str, Any]:
    mem = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    return {"nproc": os.cpu_count(), "mem_total_gb": round(int(mem["MemTotal"].split()[0]) / 2**20, 1),
            "mem_available_gb": round(int(mem["MemAvailable"].split()[0]) / 2**20, 1),
            "loadavg": os.getloadavg(), "uname": " ".join(os.uname()[2:3])}


# -- prepare ---------------------------------------------------------------------------------

def prepare(run: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import select, update

    from station_portal.auth.models import User
    from station_portal.db import Database
    from station_portal.hall.models import ServiceHall
    from station_portal.org.models import Crew, CrewMember, Unit
    from station_portal.services.users import UserInput, create_user

    env = read_env(run)
    if env.get("PORTAL_ENV") != "demo":
        raise SystemExit("prepare: the topology must run in demo mode (scripts/topology up --demo)")
    db = Database(env["DEPLOY_MIGRATE_DATABASE_URL"])
    made = {"head": [], "manager": ["manager"], "crew": [], "halls": []}
    with db.write() as session:
        have = set(session.scalars(select(User.username)))
        taken = set(session.scalars(select(User.staff_id).where(User.staff_id.is_not(None))))
        for unit in session.scalars(select(Unit).where(Unit.kind == "service_station").order_by(Unit.id)):
            name = f"load-head-{unit.code.lower()}"
            if name not in have:
                create_user(session, None, username=name, password=DEMO_PASSWORD,
                            data=UserInput(display_name=name, role="station_head",
                                           scope_unit_id=unit.id), allow_demo_password=True)
            made["head"].append(name)
        leaders = session.execute(select(Crew.id, CrewMember.staff_id).join(
            CrewMember, CrewMember.crew_id == Crew.id).where(CrewMember.is_leader).order_by(Crew.id))
        for crew_id, staff_id in leaders:
            name = f"load-crew-{crew_id}"
            if name not in have and staff_id not in taken:
                create_user(session, None, username=name, password=DEMO_PASSWORD,
                            data=UserInput(display_name=name, role="crew", staff_id=staff_id),
                            allow_demo_password=True)
            elif name not in have:
                continue
            made["crew"].append(name)
        from datetime import time as clock
        session.execute(update(ServiceHall).values(opens_at=clock(0, 0), closes_at=clock(23, 59, 59),
                                                   open_days="1111111", open_on_holidays=True))
        made["halls"] = list(session.scalars(select(ServiceHall.code).where(ServiceHall.active)))
    db.dispose()
    (run / "load-accounts.json").write_text(json.dumps(made, indent=1))
    print(f"prepared: {len(made['head'])} station heads, {len(made['crew'])} crew accounts, "
          f"{len(made['halls'])} halls open around the clock ({run / 'load-accounts.json'})")
    return made


# -- running Locust in this process -----------------------------------------------------------

def start_env(run: Path) -> tuple[Any, Any, Any]:
    import gevent  # noqa: F401  (Locust patches the standard library on import)
    from locust.env import Environment

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _load_users as users

    s = state(run)["settings"]
    accounts = json.loads((run / "load-accounts.json").read_text())
    users.ACCOUNTS.update({k: v for k, v in accounts.items() if k != "halls" and v})
    users.HALLS[:] = accounts["halls"]
    users.CA_FILE = str(run / "tls" / "demo.crt")
    environment = Environment(user_classes=list(users.USER_CLASSES),
                              host=f"https://127.0.0.1:{s['https_port']}")
    environment.create_local_runner()
    return environment, environment.runner, users


def wait_users(runner: Any, count: int, timeout: float = 300) -> None:
    began = time.monotonic()
    while runner.user_count < count and time.monotonic() - began < timeout:
        time.sleep(0.5)


def cpu_seconds() -> tuple[float, float]:
    """(this process's CPU seconds, the machine's busy CPU seconds)."""
    usage = os.times()
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    busy = sum(fields) - fields[3] - fields[4]
    return usage.user + usage.system, busy / os.sysconf("SC_CLK_TCK")


def topology_cpu(run: Path, pg_data: str | None) -> float:
    """CPU seconds used so far by the topology's processes (every service's process group)
    and, given its data folder, the PostgreSQL cluster's (the postmaster and its children):
    what the portal cost, apart from the other work on a shared machine."""
    import psutil

    groups = {r["pid"] for r in state(run)["processes"].values()}
    procs = [p for p in psutil.process_iter() if _pgid(Path(f"/proc/{p.pid}/stat")) in groups]
    if pg_data:
        try:
            postmaster = psutil.Process(int(Path(pg_data, "postmaster.pid").read_text().split()[0]))
            procs += [postmaster, *postmaster.children(recursive=True)]
        except (OSError, ValueError, psutil.Error):
            pass
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def snapshot(environment: Any, seconds: float) -> dict[str, Any]:
    stats = environment.stats
    groups = {}
    for (name, method), entry in sorted(stats.entries.items()):
        if entry.num_requests == 0:
            continue
        groups[f"{method} {name}"] = {
            "requests": entry.num_requests, "failures": entry.num_failures,
            "rps": round(entry.num_requests / seconds, 2),
            "p50": entry.get_response_time_percentile(0.5),
            "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99),
            "max": round(entry.max_response_time or 0)}
    total = stats.total
    errors = {f"{e.method} {e.name}: {e.error}"[:200]: e.occurrences for e in stats.errors.values()}
    return {"requests": total.num_requests, "failures": total.num_failures,
            "rps": round(total.num_requests / seconds, 1),
            "p50": total.get_response_time_percentile(0.5),
            "p95": total.get_response_time_percentile(0.95),
            "p99": total.get_response_time_percentile(0.99), "groups": groups, "errors": errors}


def steps(run: Path, plan: list[int], hold: float, warmup: float, out: Path | None,
          keep_going: bool, pg_data: str | None = None) -> dict[str, Any]:
    environment, runner, users = start_env(run)
    before = machine()
    print(f"machine: {before['nproc']} cores, {before['mem_total_gb']} GB, load average "
          f"{' '.join(f'{x:.2f}' for x in before['loadavg'])} before (shared with other work)")
    results = []
    try:
        for count in plan:
            runner.start(count, spawn_rate=max(2.0, count / 10))
            wait_users(runner, count)
            time.sleep(warmup)
            ramp = snapshot(environment, 1.0)  # sign-ins and first page loads of this step
            environment.stats.reset_all()
            refused = dict(users.REFUSED)
            cpu0, busy0 = cpu_seconds()
            portal0 = topology_cpu(run, pg_data)
            t0 = time.monotonic()
            time.sleep(hold)
            took = time.monotonic() - t0
            cpu1, busy1 = cpu_seconds()
            portal1 = topology_cpu(run, pg_data)
            snap = snapshot(environment, took)
            snap.update(ramp={"requests": ramp["requests"], "failures": ramp["failures"],
                              "errors": ramp["errors"],
                              "groups": {k: {"requests": g["requests"], "p95": g["p95"]}
                                         for k, g in ramp["groups"].items()
                                         if "sign-in" in k or "token" in k}},
                        users=count, seconds=round(took, 1), loadavg=os.getloadavg(),
                        generator_cpu=round((cpu1 - cpu0) / took, 2),
                        machine_cpu=round((busy1 - busy0) / took, 2),
                        topology_cpu=round((portal1 - portal0) / took, 2),
                        refused={k: v - refused.get(k, 0) for k, v in users.REFUSED.items()
                                 if v - refused.get(k, 0)})
            worst = max((g["p95"] for g in snap["groups"].values()
                         if g["requests"] >= MIN_SAMPLES), default=0)
            snap["worst_group_p95"] = worst
            clean = snap["failures"] == 0 and ramp["failures"] == 0
            snap["ok"] = clean and worst < P95_LIMIT_MS
            snap["ok_overall"] = clean and snap["p95"] < P95_LIMIT_MS
            results.append(snap)
            print_step(snap)
            if not snap["ok"] and not keep_going:
                break
    finally:
        runner.quit()
    good = [r["users"] for r in results if r["ok"]]
    overall = [r["users"] for r in results if r["ok_overall"]]
    report = {"ceiling_users_overall_p95": max(overall) if overall else None,
              "machine_before": before, "machine_after": machine(), "hold_s": hold,
              "warmup_s": warmup, "p95_limit_ms": P95_LIMIT_MS, "steps": results,
              "ceiling_users": max(good) if good else None}
    print_table(results)
    print(f"ceiling: {report['ceiling_users']} users (largest step with p95 < {P95_LIMIT_MS} ms "
          f"in every group of {MIN_SAMPLES}+ requests and no error); "
          f"{report['ceiling_users_overall_p95']} users by the p95 of all requests")
    if out:
        out.write_text(json.dumps(report, indent=1))
        print(f"JSON: {out}")
    return report


def print_step(snap: dict[str, Any]) -> None:
    print(f"\n== {snap['users']} users: {snap['rps']} req/s, p50 {snap['p50']} p95 {snap['p95']} "
          f"p99 {snap['p99']} ms, {snap['failures']} errors of {snap['requests']}; generator "
          f"{snap['generator_cpu']:.2f} cores, topology {snap['topology_cpu']:.2f}, machine "
          f"{snap['machine_cpu']:.2f} of {os.cpu_count()} busy; load "
          f"{snap['loadavg'][0]:.2f}; {'OK' if snap['ok'] else 'OVER'}")
    print(f"   {'group':<44} {'req':>6} {'req/s':>6} {'p50':>5} {'p95':>5} {'p99':>5} {'max':>6} {'err':>4}")
    for name, g in snap["groups"].items():
        print(f"   {name:<44} {g['requests']:>6} {g['rps']:>6.1f} {g['p50']:>5.0f} {g['p95']:>5.0f} "
              f"{g['p99']:>5.0f} {g['max']:>6} {g['failures']:>4}")
    ramp = snap["ramp"]
    print(f"   ramp and warm-up: {ramp['requests']} requests, {ramp['failures']} errors; "
          + ", ".join(f"{k} p95 {g['p95']:.0f} ms" for k, g in ramp["groups"].items()))
    for error, n in {**ramp["errors"], **snap["errors"]}.items():
        print(f"   error ×{n}: {error}")
    for what, n in snap["refused"].items():
        print(f"   refused by design ×{n}: {what}")


def print_table(results: list[dict[str, Any]]) -> None:
    print("\n| users | req/s | p50 ms | p95 ms | p99 ms | worst group (p95 ms) | errors | "
          "CPU: topology / machine (cores) | load avg | within |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        worst = max(((k, g) for k, g in r["groups"].items() if g["requests"] >= MIN_SAMPLES),
                    key=lambda kv: kv[1]["p95"], default=("-", {"p95": 0}))
        print(f"| {r['users']} | {r['rps']} | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} | "
              f"{worst[0]} ({worst[1]['p95']:.0f}) | {r['failures'] + r['ramp']['failures']} of "
              f"{r['requests'] + r['ramp']['requests']} | {r['topology_cpu']:.2f} / "
              f"{r['machine_cpu']:.2f} | {r['loadavg'][0]:.2f} | {'yes' if r['ok'] else 'no'} |")


# -- failover --------------------------------------------------------------------------------

def kill_group(record: dict[str, Any]) -> list[int]:
    pgid = record["pid"]
    members = [int(p.parent.name) for p in Path("/proc").glob("[0-9]*/stat")
               if _pgid(p) == pgid]
    os.killpg(pgid, signal.SIGKILL)
    return members


def _pgid(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return None


def topology_module() -> Any:
    """scripts/topology as a module (standard library only): its own service table."""
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader("topology", str(ROOT / "scripts" / "topology"))
    spec = importlib.util.spec_from_loader("topology", loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["topology"] = module  # its dataclasses look themselves up there
    loader.exec_module(module)
    return module


def restart_web(run: Path, name: str) -> dict[str, Any]:
    """Start a web host again with the command and settings ``scripts/topology up`` gave it
    (its own service table; the script has no command for one service), and record it in
    topology.json so that ``down`` stops it. The killed host's log is kept beside."""
    topo = topology_module()
    top = state(run)
    settings = topo.Settings.from_json(top["settings"])
    env = topo.read_env_file(run / topo.ENV_FILE)
    service = topo.services(settings, env)[name]
    base = {k: v for k, v in os.environ.items()
            if k not in env and not k.startswith(("PORTAL_", "PGBOUNCER_", "NGINX_"))
            and k not in ("DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")}
    base.update(PATH=topo.search_path(topo.venv_bin()), PYTHONUNBUFFERED="1")
    log = run / "logs" / f"{name}.log"
    if log.exists():
        log.replace(log.with_suffix(".killed.log"))
    record = topo.spawn(service, settings, base)
    top["processes"][name] = {k: v for k, v in record.items() if not k.startswith("_")}
    (run / "topology.json").write_text(json.dumps(top, indent=2) + "\n")
    return {"pid": record["pid"], "port": int(service.env["PORTAL_PORT"])}


def healthy(port: int) -> bool:
    import urllib.request
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def failover(run: Path, users_count: int, pg_data: str, pg_options: str, phase: float,
             pg_down: float, out: Path | None) -> dict[str, Any]:
    import gevent

    environment, runner, users = start_env(run)
    log: list[tuple[float, str, str, bool]] = []
    ready: list[tuple[float, int | None]] = []  # /readyz through nginx, every second

    def sample_ready() -> None:
        import ssl
        import urllib.error
        import urllib.request
        context = ssl.create_default_context(cafile=str(run / "tls" / "demo.crt"))
        url = f"https://127.0.0.1:{state(run)['settings']['https_port']}/readyz"
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5, context=context) as r:
                    code: int | None = r.status
            except urllib.error.HTTPError as exc:
                code = exc.code
            except OSError:
                code = None
            ready.append((time.monotonic(), code))
            gevent.sleep(1)

    def on_request(request_type: str, name: str, response_time: float, response_length: int,
                   exception: Any = None, **_kw: Any) -> None:
        log.append((time.monotonic(), request_type, name, exception is None))

    environment.events.request.add_listener(on_request)
    print(f"machine: {machine()}")
    runner.start(users_count, spawn_rate=max(2.0, users_count / 10))
    wait_users(runner, users_count)
    time.sleep(15)
    environment.stats.reset_all()
    log.clear()
    sampler = gevent.spawn(sample_ready)
    events: list[dict[str, Any]] = []
    try:
        t0 = time.monotonic()
        time.sleep(phase)
        record = state(run)["processes"]["web1"]
        at = time.monotonic()
        killed = kill_group(record)
        events.append({"event": "web1 killed (SIGKILL to its process group)", "at": at,
                       "processes": len(killed)})
        print(f"{at - t0:6.1f} s  web1 killed: {len(killed)} processes")
        time.sleep(phase)
        at = time.monotonic()
        started = restart_web(run, "web1")
        while not healthy(started["port"]) and time.monotonic() - at < 60:
            time.sleep(0.2)
        back = healthy(started["port"])
        events.append({"event": "web1 started again", "at": at, "healthy": back,
                       "healthy_after_s": round(time.monotonic() - at, 1)})
        if not back:
            print(f"web1 did NOT come back: see {run / 'logs' / 'web1.log'}")
        print(f"{at - t0:6.1f} s  web1 started again, /healthz after {time.monotonic() - at:.1f} s")
        time.sleep(phase)
        at = time.monotonic()
        ctl = ["runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D", pg_data,
               "-m", "fast", "-o", pg_options, "-l", f"{pg_data}.log", "-w"]

        def pg_ctl(action: str) -> subprocess.CompletedProcess:
            return subprocess.run([*ctl, action], capture_output=True, text=True,  # noqa: S603
                                  check=False)

        if pg_down > 0:  # stopped, kept down, started: a restart that takes a while
            done = pg_ctl("stop")
            time.sleep(pg_down)
            done = pg_ctl("start")
            what = f"PostgreSQL stopped (-m fast), down {pg_down:.0f} s, started"
        else:
            done = pg_ctl("restart")
            what = "PostgreSQL restarted (pg_ctl restart -m fast)"
        events.append({"event": what, "at": at, "back_after_s": round(time.monotonic() - at, 1),
                       "rc": done.returncode})
        print(f"{at - t0:6.1f} s  {what}: accepting connections after {time.monotonic() - at:.1f} s "
              f"(rc {done.returncode} {done.stderr.strip()[-200:]})")
        time.sleep(phase * 2)
        ended = time.monotonic()
    finally:
        sampler.kill()
        runner.quit()
    snap = snapshot(environment, ended - t0)
    report = {"users": users_count, "seconds": round(ended - t0, 1), "totals": snap,
              "events": [], "timeline": timeline(log, t0)}
    for i, ev in enumerate(events):
        until = events[i + 1]["at"] if i + 1 < len(events) else ended
        window = [x for x in log if ev["at"] <= x[0] < until]
        not_ready = [x for x in ready if ev["at"] <= x[0] < until and x[1] != 200]
        failed = [x for x in window if not x[3]]
        info = {k: v for k, v in ev.items() if k != "at"}
        info.update(at_s=round(ev["at"] - t0, 1), requests=len(window), failed=len(failed),
                    failed_posts=sum(1 for x in failed if x[1] == "POST"),
                    failed_by_name=_count(f"{x[1]} {x[2]}" for x in failed),
                    first_failure_s=round(failed[0][0] - ev["at"], 2) if failed else None,
                    recovered_after_s=round(failed[-1][0] - ev["at"], 2) if failed else 0.0,
                    readyz_not_200_s=len(not_ready),
                    readyz_200_again_after_s=round(not_ready[-1][0] - ev["at"] + 1, 1)
                    if not_ready else 0.0)
        report["events"].append(info)
    report["before_events"] = {"requests": len([x for x in log if x[0] < events[0]["at"]]),
                               "failed": len([x for x in log if x[0] < events[0]["at"] and not x[3]])}
    report["readyz_at_end"] = ready[-1][1] if ready else None
    report["nothing_lost"] = verify(run, users.ACKED)
    report["refused"] = dict(users.REFUSED)
    report["machine_after"] = machine()
    print(json.dumps({k: v for k, v in report.items() if k != "timeline"}, indent=1))
    if out:
        out.write_text(json.dumps(report, indent=1))
        print(f"JSON: {out}")
    return report


def _count(items: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def timeline(log: list[tuple[float, str, str, bool]], t0: float) -> list[list[int]]:
    """[second, requests, failures] for every second of the run."""
    buckets: dict[int, list[int]] = {}
    for at, _method, _name, ok in log:
        b = buckets.setdefault(int(at - t0), [0, 0])
        b[0] += 1
        b[1] += 0 if ok else 1
    return [[s, *buckets[s]] for s in sorted(buckets)]


def verify(run: Path, acked: dict[str, list[Any]]) -> dict[str, Any]:
    """Every step, position, repair and ticket acknowledged with a 2xx is in the database."""
    import psycopg

    url = read_env(run)["DEPLOY_MIGRATE_DATABASE_URL"]
    found: dict[str, Any] = {}
    with psycopg.connect(url) as conn:
        keys = [k for _order, _step, k in acked.get("steps", [])]
        have = conn.execute("SELECT count(*) FROM work_order_events WHERE client_key = ANY(%s)",
                            (keys,)).fetchone()[0]
        found["crew steps"] = {"acked": len(keys), "in_database": have}
        pings = acked.get("pings", [])
        have = 0
        for crew_id, at in pings:
            have += conn.execute("SELECT count(*) > 0 FROM crew_pings WHERE crew_id = %s AND at = %s",
                                 (crew_id, at)).fetchone()[0]
        found["crew positions"] = {"acked": len(pings), "in_database": have}
        ids = acked.get("repairs", [])
        have = conn.execute("SELECT count(*) FROM work_orders WHERE id = ANY(%s)", (ids,)).fetchone()[0]
        found["repairs"] = {"acked": len(ids), "in_database": have}
        ids = acked.get("assignments", [])
        have = conn.execute("SELECT count(DISTINCT work_order_id) FROM order_assignments "
                            "WHERE work_order_id = ANY(%s)", (ids,)).fetchone()[0]
        found["crews sent"] = {"acked": len(ids), "in_database": have}
    found["all"] = all(v["acked"] == v["in_database"] for v in found.values())
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("prepare", "steps", "failover"))
    parser.add_argument("--run-dir", type=Path, required=True, help="the topology's run folder")
    parser.add_argument("--steps", default="10,20,40,60,80,120,160")
    parser.add_argument("--hold", type=float, default=60.0, help="seconds measured per step")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds before measuring")
    parser.add_argument("--keep-going", action="store_true", help="run every step")
    parser.add_argument("--users", type=int, default=40, help="failover: users held")
    parser.add_argument("--phase", type=float, default=30.0, help="failover: seconds between events")
    parser.add_argument("--pg-data",
                        help="the data folder of the load test's own PostgreSQL: failover "
                             "restarts it (required), steps counts its CPU")
    parser.add_argument("--pg-down", type=float, default=0.0,
                        help="failover: keep PostgreSQL stopped this many seconds (0: pg_ctl restart)")
    parser.add_argument("--pg-options", default="-p 5544 -k /tmp -c max_connections=200")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    run = args.run_dir.resolve()
    if args.action == "prepare":
        prepare(run)
    elif args.action == "steps":
        steps(run, [int(x) for x in args.steps.split(",")], args.hold, args.warmup, args.json,
              args.keep_going, args.pg_data)
    else:
        if not args.pg_data:
            parser.error("failover needs --pg-data: the load test's own cluster (never a shared one)")
        failover(run, args.users, args.pg_data, args.pg_options, args.phase, args.pg_down, args.json)


if __name__ == "__main__":
    main()
