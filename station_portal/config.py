"""Configuration, read from environment variables with safe demo defaults.

Nothing here connects to anything; it only reads the environment. Tests pass a
mapping of overrides to :func:`Config.from_env`.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from station_portal.resources import instance_dir, repo_root, resource_dir

DEMO = "demo"
PRODUCTION = "production"

# In demo mode without SECRET_KEY a random key is made once and kept in
# instance/secret_key (git-ignored), so every worker and restart shares it.
# Production refuses to start without a real key (see Config.validate).
_PLACEHOLDER_SECRETS = {"", "change-me", "dev", "secret", "changeme"}
MAX_API_TOKEN_HOURS = 24 * 366


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message tells the operator why."""


def default_database_url() -> str:
    """SQLite file under ``instance/`` beside the repository (git-ignored)."""
    instance = instance_dir()
    return f"sqlite:///{instance / 'station_portal.sqlite3'}"


def default_upload_dir() -> str:
    """Photos and documents: ``instance/uploads``, outside every folder the portal serves."""
    return str(instance_dir() / "uploads")


def _as_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Config:
    """Every setting the portal reads, with the environment variable it comes from."""

    env: str = DEMO  # PORTAL_ENV
    database_url: str = field(default_factory=default_database_url)  # DATABASE_URL
    secret_key: str = ""  # SECRET_KEY
    idle_timeout_minutes: int = 30  # PORTAL_IDLE_TIMEOUT_MINUTES
    session_max_hours: int = 12  # PORTAL_SESSION_MAX_HOURS
    # Sign-in throttling: failures counted over the window, then a lock.
    login_max_failures_per_account: int = 5  # PORTAL_LOGIN_MAX_FAILURES
    login_max_failures_per_address: int = 20  # PORTAL_LOGIN_MAX_FAILURES_PER_ADDRESS
    login_window_minutes: int = 15  # PORTAL_LOGIN_WINDOW_MINUTES
    login_lock_minutes: int = 15  # PORTAL_LOGIN_LOCK_MINUTES
    default_locale: str = "zh_CN"  # PORTAL_DEFAULT_LOCALE
    # Map base layer: blank by default so maps work without internet access.
    tile_url: str = ""  # PORTAL_TILE_URL, e.g. http://tiles.internal/{z}/{x}/{y}.png
    tile_attribution: str = ""  # PORTAL_TILE_ATTRIBUTION
    host: str = "127.0.0.1"  # PORTAL_HOST
    port: int = 8050  # PORTAL_PORT
    secure_cookies: bool = False  # PORTAL_SECURE_COOKIES (true behind HTTPS)
    trusted_proxies: int = 0  # PORTAL_TRUSTED_PROXIES (X-Forwarded-For hops to trust)
    sql_echo: bool = False  # PORTAL_SQL_ECHO
    # REST API: bearer tokens expire after this many hours.
    api_token_hours: int = 12  # PORTAL_API_TOKEN_HOURS
    # Uploaded photos (kept outside every served folder, under random names).
    upload_dir: str = field(default_factory=default_upload_dir)  # PORTAL_UPLOAD_DIR
    # Email (notifications, weekly briefings). No host: nothing is mailed.
    smtp_host: str = ""  # PORTAL_SMTP_HOST
    smtp_port: int = 25  # PORTAL_SMTP_PORT
    smtp_security: str = "none"  # PORTAL_SMTP_SECURITY: none | starttls | ssl
    smtp_user: str = ""  # PORTAL_SMTP_USER
    smtp_password: str = ""  # PORTAL_SMTP_PASSWORD
    mail_from: str = "Station Portal <portal@localhost>"  # PORTAL_MAIL_FROM
    # The address people use to reach the portal, for links in emails.
    public_url: str = "http://127.0.0.1:8050"  # PORTAL_PUBLIC_URL
    # Demo mode only: new calls and crews moving, every minute, from the scheduler.
    simulate: bool = True  # PORTAL_SIMULATE
    # Networks whose devices may take hall queue tickets (comma-separated CIDR, e.g. the
    # halls' LAN); empty: any address (the kiosk pages are public).
    kiosk_networks: str = ""  # PORTAL_KIOSK_NETWORKS

    _ENV_NAMES = {
        "env": "PORTAL_ENV",
        "database_url": "DATABASE_URL",
        "secret_key": "SECRET_KEY",
        "idle_timeout_minutes": "PORTAL_IDLE_TIMEOUT_MINUTES",
        "session_max_hours": "PORTAL_SESSION_MAX_HOURS",
        "login_max_failures_per_account": "PORTAL_LOGIN_MAX_FAILURES",
        "login_max_failures_per_address": "PORTAL_LOGIN_MAX_FAILURES_PER_ADDRESS",
        "login_window_minutes": "PORTAL_LOGIN_WINDOW_MINUTES",
        "login_lock_minutes": "PORTAL_LOGIN_LOCK_MINUTES",
        "default_locale": "PORTAL_DEFAULT_LOCALE",
        "tile_url": "PORTAL_TILE_URL",
        "tile_attribution": "PORTAL_TILE_ATTRIBUTION",
        "host": "PORTAL_HOST",
        "port": "PORTAL_PORT",
        "secure_cookies": "PORTAL_SECURE_COOKIES",
        "trusted_proxies": "PORTAL_TRUSTED_PROXIES",
        "sql_echo": "PORTAL_SQL_ECHO",
        "api_token_hours": "PORTAL_API_TOKEN_HOURS",
        "upload_dir": "PORTAL_UPLOAD_DIR",
        "smtp_host": "PORTAL_SMTP_HOST",
        "smtp_port": "PORTAL_SMTP_PORT",
        "smtp_security": "PORTAL_SMTP_SECURITY",
        "smtp_user": "PORTAL_SMTP_USER",
        "smtp_password": "PORTAL_SMTP_PASSWORD",
        "mail_from": "PORTAL_MAIL_FROM",
        "public_url": "PORTAL_PUBLIC_URL",
        "simulate": "PORTAL_SIMULATE",
        "kiosk_networks": "PORTAL_KIOSK_NETWORKS",
    }

    @classmethod
    def env_names(cls) -> dict[str, str]:
        """Setting name -> environment variable, for the docs and the CLI."""
        return dict(cls._ENV_NAMES)

    @classmethod
    def from_env(
        cls, overrides: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None
    ) -> Config:
        """Build the configuration from ``environ`` (default: ``os.environ``), then ``overrides``."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        types = {f.name: f.type for f in fields(cls)}
        for name, var in cls._ENV_NAMES.items():
            raw = environ.get(var)
            if raw is None or raw == "":
                continue
            kind = types[name]
            try:
                if kind in ("int", int):
                    values[name] = int(raw)
                elif kind in ("bool", bool):
                    values[name] = _as_bool(raw)
                else:
                    values[name] = raw
            except ValueError as exc:
                raise ConfigError(f"{var}={raw!r} is not a valid {kind}") from exc
        config = cls(**values)
        if overrides:
            config = replace(config, **dict(overrides))
        config.validate()
        return config

    @property
    def is_demo(self) -> bool:
        return self.env == DEMO

    @property
    def simulation_on(self) -> bool:
        """The demo simulation never runs in production, whatever PORTAL_SIMULATE says."""
        return self.is_demo and self.simulate

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def validate(self) -> None:
        if self.env not in (DEMO, PRODUCTION):
            raise ConfigError(f"PORTAL_ENV must be '{DEMO}' or '{PRODUCTION}', not {self.env!r}")
        if self.idle_timeout_minutes < 1:
            raise ConfigError("PORTAL_IDLE_TIMEOUT_MINUTES must be at least 1")
        if self.default_locale not in ("zh_CN", "en"):
            raise ConfigError("PORTAL_DEFAULT_LOCALE must be 'zh_CN' or 'en'")
        if not 1 <= self.api_token_hours <= MAX_API_TOKEN_HOURS:
            raise ConfigError(
                f"PORTAL_API_TOKEN_HOURS must be between 1 and {MAX_API_TOKEN_HOURS}")
        self._validate_upload_dir()
        if self.smtp_security not in ("none", "starttls", "ssl"):
            raise ConfigError("PORTAL_SMTP_SECURITY must be 'none', 'starttls' or 'ssl'")
        if not 1 <= self.smtp_port <= 65535:
            raise ConfigError("PORTAL_SMTP_PORT must be a port number")
        self.kiosk_network_list()
        if self.env == PRODUCTION:
            weak = self.secret_key.strip().lower() in _PLACEHOLDER_SECRETS
            if weak or len(self.secret_key) < 32:
                raise ConfigError(
                    "Production needs a real SECRET_KEY (at least 32 random characters), "
                    "for example: python -c 'import secrets; print(secrets.token_hex(32))'"
                )

    def _validate_upload_dir(self) -> None:
        if not self.upload_dir.strip():
            raise ConfigError("PORTAL_UPLOAD_DIR must name a folder")
        target = Path(self.upload_dir).expanduser().resolve()
        package = repo_root() / "station_portal"
        for served in (resource_dir("assets"), package):
            if target == served or served in target.parents:
                raise ConfigError(
                    f"PORTAL_UPLOAD_DIR must lie outside {served}: uploads must never be served "
                    "as static files")

    def kiosk_network_list(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """``PORTAL_KIOSK_NETWORKS`` parsed (empty: tickets from any address)."""
        out = []
        for part in self.kiosk_networks.split(","):
            if part.strip():
                try:
                    out.append(ipaddress.ip_network(part.strip(), strict=False))
                except ValueError as exc:
                    raise ConfigError(
                        f"PORTAL_KIOSK_NETWORKS: {part.strip()!r} is not a network "
                        "(write e.g. 10.20.0.0/16, 192.168.1.10)") from exc
        return out

    def upload_path(self) -> Path:
        """The upload folder as an absolute path (created on first upload)."""
        return Path(self.upload_dir).expanduser().resolve()

    def effective_secret_key(self) -> str:
        """The key that signs cookies: the configured one, or the demo instance's own."""
        if self.secret_key:
            return self.secret_key
        path = instance_dir() / "secret_key"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            # Written aside, then linked into place: atomic, and the first process wins.
            tmp = path.with_name(f".secret_key.{os.getpid()}")
            tmp.write_text(secrets.token_hex(32))
            tmp.chmod(0o600)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text().strip()

    def sqlite_path(self) -> Path | None:
        """The file behind a ``sqlite:///`` URL, or None (memory database or another engine)."""
        prefix = "sqlite:///"
        if not self.database_url.startswith(prefix):
            return None
        path = self.database_url[len(prefix):].split("?", 1)[0]
        return Path(path) if path and path != ":memory:" else None
