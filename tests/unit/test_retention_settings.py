"""Retention settings: read from the environment, 0 keeps for ever, the audit trail at least
six months (Cybersecurity Law art. 21(3)), nonsense refused with the variable's name."""

import pytest

from station_portal.config import MIN_AUDIT_DAYS, Config, ConfigError


def test_defaults_keep_the_audit_trail_a_year_and_hall_tickets_for_ever():
    config = Config.from_env(environ={})
    assert config.retention_audit_days == 365 >= MIN_AUDIT_DAYS
    assert config.retention_pings_days == 30
    assert config.retention_notifications_days == 180
    assert (config.retention_job_runs_days, config.retention_failed_job_runs_days) == (30, 180)
    assert config.retention_sessions_days == 30
    assert config.retention_hall_tickets_days == 0


def test_every_setting_has_its_environment_variable():
    names = Config.env_names()
    config = Config.from_env(environ={
        "PORTAL_RETENTION_PINGS_DAYS": "7", "PORTAL_RETENTION_AUDIT_DAYS": "0",
        "PORTAL_RETENTION_NOTIFICATIONS_DAYS": "90", "PORTAL_RETENTION_JOB_RUNS_DAYS": "14",
        "PORTAL_RETENTION_FAILED_JOB_RUNS_DAYS": "60", "PORTAL_RETENTION_SESSIONS_DAYS": "3",
        "PORTAL_RETENTION_HALL_TICKETS_DAYS": "1100", "PORTAL_RETENTION_BATCH_SIZE": "2000",
        "PORTAL_RETENTION_MAX_SECONDS": "300"})
    assert {n for n in names if n.startswith("retention_")} == {
        "retention_pings_days", "retention_audit_days", "retention_notifications_days",
        "retention_job_runs_days", "retention_failed_job_runs_days", "retention_sessions_days",
        "retention_hall_tickets_days", "retention_batch_size", "retention_max_seconds"}
    assert (config.retention_pings_days, config.retention_audit_days,
            config.retention_notifications_days, config.retention_job_runs_days,
            config.retention_failed_job_runs_days, config.retention_sessions_days,
            config.retention_hall_tickets_days, config.retention_batch_size,
            config.retention_max_seconds) == (7, 0, 90, 14, 60, 3, 1100, 2000, 300)


def test_an_empty_variable_means_the_default():
    config = Config.from_env(environ={"PORTAL_RETENTION_AUDIT_DAYS": ""})
    assert config.retention_audit_days == 365


@pytest.mark.parametrize("days", ["30", "183", "-1"])
def test_the_audit_trail_cannot_be_kept_less_than_six_months(days):
    with pytest.raises(ConfigError, match=r"PORTAL_RETENTION_AUDIT_DAYS.*six months"):
        Config.from_env(environ={"PORTAL_RETENTION_AUDIT_DAYS": days})


@pytest.mark.parametrize("days", ["0", "184", "1095"])
def test_six_months_or_more_or_for_ever_is_accepted_for_the_audit_trail(days):
    assert Config.from_env(
        environ={"PORTAL_RETENTION_AUDIT_DAYS": days}).retention_audit_days == int(days)


@pytest.mark.parametrize(("var", "value", "says"), [
    ("PORTAL_RETENTION_PINGS_DAYS", "-3", "PORTAL_RETENTION_PINGS_DAYS"),
    ("PORTAL_RETENTION_PINGS_DAYS", "thirty", "PORTAL_RETENTION_PINGS_DAYS"),
    ("PORTAL_RETENTION_NOTIFICATIONS_DAYS", "2", "between 7"),
    ("PORTAL_RETENTION_JOB_RUNS_DAYS", "3", "between 8"),  # a weekly job's last run stays
    ("PORTAL_RETENTION_SESSIONS_DAYS", "40000", "36500"),
    ("PORTAL_RETENTION_HALL_TICKETS_DAYS", "90", "between 366"),  # the dashboard's year
    ("PORTAL_RETENTION_BATCH_SIZE", "5", "PORTAL_RETENTION_BATCH_SIZE"),
    ("PORTAL_RETENTION_BATCH_SIZE", "1000000", "PORTAL_RETENTION_BATCH_SIZE"),
    ("PORTAL_RETENTION_MAX_SECONDS", "0", "PORTAL_RETENTION_MAX_SECONDS"),
])
def test_nonsense_is_refused_naming_the_variable(var, value, says):
    with pytest.raises(ConfigError, match=says):
        Config.from_env(environ={var: value})


@pytest.mark.parametrize(("ok", "failed"), [("60", "30"), ("0", "180")])
def test_failed_runs_are_kept_at_least_as_long_as_successful_ones(ok, failed):
    with pytest.raises(ConfigError, match="PORTAL_RETENTION_FAILED_JOB_RUNS_DAYS"):
        Config.from_env(environ={"PORTAL_RETENTION_JOB_RUNS_DAYS": ok,
                                 "PORTAL_RETENTION_FAILED_JOB_RUNS_DAYS": failed})


def test_keeping_every_run_for_ever_is_allowed():
    config = Config.from_env(environ={"PORTAL_RETENTION_JOB_RUNS_DAYS": "0",
                                      "PORTAL_RETENTION_FAILED_JOB_RUNS_DAYS": "0"})
    assert config.retention_job_runs_days == config.retention_failed_job_runs_days == 0
