"""Configuration comes from the environment, with safe demo defaults."""

import pytest

from station_portal.config import Config, ConfigError


def test_demo_defaults_need_no_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE_DIR", str(tmp_path))
    config = Config.from_env(environ={})
    assert config.is_demo
    assert config.is_sqlite
    assert config.sqlite_path().parent == tmp_path  # runtime state lives outside data/
    assert len(config.effective_secret_key()) >= 32
    assert config.effective_secret_key() == Config.from_env(environ={}).effective_secret_key()


def test_environment_variables_are_read_and_typed():
    config = Config.from_env(environ={
        "DATABASE_URL": "postgresql://u@h/db", "PORTAL_IDLE_TIMEOUT_MINUTES": "5",
        "PORTAL_SECURE_COOKIES": "true", "PORTAL_DEFAULT_LOCALE": "en",
    })
    assert config.database_url == "postgresql://u@h/db"
    assert config.idle_timeout_minutes == 5
    assert config.secure_cookies is True
    assert config.default_locale == "en"


def test_a_malformed_number_is_a_clear_error():
    with pytest.raises(ConfigError, match="PORTAL_IDLE_TIMEOUT_MINUTES"):
        Config.from_env(environ={"PORTAL_IDLE_TIMEOUT_MINUTES": "soon"})


@pytest.mark.parametrize("secret", ["", "change-me", "short-secret"])
def test_production_refuses_a_missing_or_weak_secret(secret):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Config.from_env(environ={"PORTAL_ENV": "production", "SECRET_KEY": secret})


def test_production_accepts_a_real_secret():
    config = Config.from_env(environ={"PORTAL_ENV": "production", "SECRET_KEY": "x" * 40})
    assert not config.is_demo


def test_unknown_environment_name_is_refused():
    with pytest.raises(ConfigError, match="PORTAL_ENV"):
        Config.from_env(environ={"PORTAL_ENV": "staging"})
