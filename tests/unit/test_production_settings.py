"""Production settings: what a production process refuses, the database pool, the web
server's numbers, and who may read the metrics."""

from __future__ import annotations

import pytest

from station_portal.config import Config, ConfigError
from station_portal.db import Database
from station_portal.web.metrics import metrics_allowed

SECRET = "s" * 40
PG = "postgresql://portal@db.internal/portal"


def production(**environ: str) -> Config:
    return Config.from_env(environ={"PORTAL_ENV": "production", "SECRET_KEY": SECRET,
                                    "DATABASE_URL": PG, **environ})


def test_a_production_process_refuses_sqlite_and_says_what_to_do():
    config = Config.from_env(environ={"PORTAL_ENV": "production", "SECRET_KEY": SECRET,
                                      "DATABASE_URL": "sqlite:////srv/portal.sqlite3"})
    with pytest.raises(ConfigError) as refused:
        config.check_deployment()
    message = str(refused.value)
    assert "refuses SQLite" in message and "PostgreSQL" in message and "PORTAL_ENV=demo" in message
    production().check_deployment()  # PostgreSQL: fine
    Config.from_env(environ={}).check_deployment()  # the demo keeps its SQLite file


def test_production_cookies_are_secure_whatever_the_setting_says():
    assert production().cookies_secure
    assert production(PORTAL_SECURE_COOKIES="false").cookies_secure
    assert not Config.from_env(environ={}).cookies_secure
    assert Config.from_env(environ={"PORTAL_SECURE_COOKIES": "1"}).cookies_secure


def test_the_old_database_variable_and_the_new_one_both_work_but_never_disagree():
    assert Config.from_env(environ={"DATABASE_URL": PG}).database_url == PG
    assert Config.from_env(environ={"PORTAL_DATABASE_URL": PG}).database_url == PG
    assert Config.from_env(environ={"DATABASE_URL": PG, "PORTAL_DATABASE_URL": PG}).database_url == PG
    with pytest.raises(ConfigError, match="DATABASE_URL and PORTAL_DATABASE_URL"):
        Config.from_env(environ={"DATABASE_URL": PG, "PORTAL_DATABASE_URL": PG + "2"})


def test_pool_settings_are_read_typed_and_handed_to_the_engine():
    config = production(PORTAL_DATABASE_POOL_SIZE="3", PORTAL_DATABASE_MAX_OVERFLOW="0",
                        PORTAL_DATABASE_POOL_TIMEOUT="7", PORTAL_DATABASE_POOL_RECYCLE="0",
                        PORTAL_DATABASE_PGBOUNCER="1")
    options = config.database_options()
    assert options == {"echo": False, "pool_size": 3, "max_overflow": 0, "pool_timeout": 7,
                       "pool_recycle": -1, "pgbouncer": True}
    db = Database(config.database_url, **options)  # nothing connects
    try:
        assert db.engine.pool.size() == 3 and db.engine.pool.timeout() == 7
        assert db.engine.pool._max_overflow == 0 and db.engine.pool._recycle == -1
    finally:
        db.dispose()


@pytest.mark.parametrize(("variable", "value"), [
    ("PORTAL_DATABASE_POOL_SIZE", "0"), ("PORTAL_DATABASE_MAX_OVERFLOW", "-1"),
    ("PORTAL_DATABASE_POOL_TIMEOUT", "0"), ("PORTAL_DATABASE_POOL_RECYCLE", "-5"),
    ("PORTAL_DATABASE_POOL_SIZE", "many"), ("PORTAL_WEB_WORKERS", "0"),
    ("PORTAL_WEB_THREADS", "1000"), ("PORTAL_WEB_TIMEOUT", "1"),
    ("PORTAL_WEB_GRACEFUL_TIMEOUT", "0"), ("PORTAL_FORWARDED_ALLOW_IPS", "the proxy"),
    ("PORTAL_LOG_FORMAT", "xml"), ("PORTAL_LOG_LEVEL", "loud"),
    ("PORTAL_METRICS_TOKEN", "short"), ("PORTAL_METRICS_NETWORKS", "10.0.0.0/33"),
    ("PORTAL_READY_SCHEDULER_SECONDS", "-1"),
])
def test_a_bad_value_is_refused_naming_its_variable(variable, value):
    with pytest.raises(ConfigError, match=variable):
        production(**{variable: value})


def test_pgbouncer_is_refused_on_sqlite():
    with pytest.raises(ConfigError, match="PORTAL_DATABASE_PGBOUNCER"):
        Config.from_env(environ={"PORTAL_DATABASE_PGBOUNCER": "true"})


def test_forwarded_addresses_take_a_star_or_addresses_and_networks():
    assert production(PORTAL_FORWARDED_ALLOW_IPS="*").forwarded_allow_ips == "*"
    assert production(PORTAL_FORWARDED_ALLOW_IPS="10.0.0.0/8, 192.168.1.5").forwarded_allow_ips


def test_logs_are_json_in_production_and_text_in_demo_unless_asked():
    assert production().log_json
    assert not production(PORTAL_LOG_FORMAT="text").log_json
    assert not Config.from_env(environ={}).log_json
    assert Config.from_env(environ={"PORTAL_LOG_FORMAT": "json"}).log_json


def test_metrics_need_the_token_or_an_allowed_network():
    token = "t" * 40
    guarded = production(PORTAL_METRICS_TOKEN=token, PORTAL_METRICS_NETWORKS="10.20.0.0/16")
    assert metrics_allowed(guarded, "203.0.113.9", token)
    assert metrics_allowed(guarded, "10.20.3.4", None)
    assert not metrics_allowed(guarded, "203.0.113.9", None)
    assert not metrics_allowed(guarded, "203.0.113.9", "t" * 39 + "u")
    assert not metrics_allowed(guarded, "127.0.0.1", None)  # networks configured: only those
    assert not metrics_allowed(guarded, None, None)


def test_unconfigured_metrics_are_for_nobody_in_production_and_this_host_in_demo():
    assert not metrics_allowed(production(), "127.0.0.1", None)
    assert not metrics_allowed(production(), "127.0.0.1", "")
    demo = Config.from_env(environ={})
    assert metrics_allowed(demo, "127.0.0.1", None) and metrics_allowed(demo, "::1", None)
    assert not metrics_allowed(demo, "192.168.1.20", None)
