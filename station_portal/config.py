"""Configuration, read from environment variables with safe demo defaults.

Nothing here connects to anything; it only reads the environment. Tests pass a
mapping of overrides to :func:`Config.from_env`.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from station_portal.resources import instance_dir, package_dir, resource_dir

DEMO = "demo"
PRODUCTION = "production"

# In demo mode without SECRET_KEY a random key is made once and kept in
# instance/secret_key (git-ignored), so every worker and restart shares it.
# Production refuses to start without a real key (see Config.validate).
_PLACEHOLDER_SECRETS = {"", "change-me", "dev", "secret", "changeme"}
MAX_API_TOKEN_HOURS = 24 * 366
# Network logs are kept at least six months (Cybersecurity Law of the PRC, art. 21(3)):
# 184 days cover the longest six consecutive calendar months (July to December).
MIN_AUDIT_DAYS = 184
MAX_RETENTION_DAYS = 36_500
_S3_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_S3_PREFIX_RE = re.compile(r"^([A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}/){1,3}$")


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


def _read(environ: Mapping[str, str], var: str, aliases: tuple[str, ...]) -> str | None:
    """The value of ``var`` or of one of its aliases; two different values are an error."""
    given = {name: environ[name] for name in (var, *aliases) if environ.get(name)}
    if len(set(given.values())) > 1:
        raise ConfigError(" and ".join(given) + " are both set, to different values: keep one")
    return next(iter(given.values()), None)


def _networks(text: str, var: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """A comma-separated list of networks or addresses, each checked."""
    out = []
    for part in text.split(","):
        if part.strip():
            try:
                out.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError as exc:
                raise ConfigError(
                    f"{var}: {part.strip()!r} is not a network "
                    "(write e.g. 10.20.0.0/16, 192.168.1.10)") from exc
    return out


@dataclass(frozen=True)
class Config:
    """Every setting the portal reads, with the environment variable it comes from."""

    env: str = DEMO  # PORTAL_ENV
    database_url: str = field(default_factory=default_database_url)  # DATABASE_URL, PORTAL_DATABASE_URL
    secret_key: str = ""  # SECRET_KEY
    idle_timeout_minutes: int = 30  # PORTAL_IDLE_TIMEOUT_MINUTES
    session_max_hours: int = 12  # PORTAL_SESSION_MAX_HOURS
    # Sign-in throttling (auth/signin.py), failures counted over the window: one account
    # from one network (IPv4 /24, IPv6 /64) fails this often, then that network waits
    # 1, 2, 4 … minutes (at most the lock) before each next try; other networks do not.
    login_max_failures_per_network: int = 5  # PORTAL_LOGIN_MAX_FAILURES
    # One address failing on any accounts this often is locked out for the lock.
    login_max_failures_per_address: int = 20  # PORTAL_LOGIN_MAX_FAILURES_PER_ADDRESS
    # One account failing this often from all networks together: each network that failed
    # then waits the whole lock after each failure; a network that has not failed is
    # still let in with the right password.
    login_account_ceiling: int = 20  # PORTAL_LOGIN_ACCOUNT_CEILING
    login_window_minutes: int = 15  # PORTAL_LOGIN_WINDOW_MINUTES
    login_lock_minutes: int = 15  # PORTAL_LOGIN_LOCK_MINUTES (the longest wait)
    default_locale: str = "zh_CN"  # PORTAL_DEFAULT_LOCALE
    # Map base layer: blank by default so maps work without internet access.
    tile_url: str = ""  # PORTAL_TILE_URL, e.g. http://tiles.internal/{z}/{x}/{y}.png
    tile_attribution: str = ""  # PORTAL_TILE_ATTRIBUTION
    host: str = "127.0.0.1"  # PORTAL_HOST
    port: int = 8050  # PORTAL_PORT
    # Cookies only over HTTPS: always in production; in demo when this is true.
    secure_cookies: bool = False  # PORTAL_SECURE_COOKIES
    trusted_proxies: int = 0  # PORTAL_TRUSTED_PROXIES (X-Forwarded-For hops to trust)
    sql_echo: bool = False  # PORTAL_SQL_ECHO
    # REST API: bearer tokens expire after this many hours.
    api_token_hours: int = 12  # PORTAL_API_TOKEN_HOURS
    # Uploaded photos (kept outside every served folder, under random names).
    upload_dir: str = field(default_factory=default_upload_dir)  # PORTAL_UPLOAD_DIR
    # Where uploads are stored: "local" (PORTAL_UPLOAD_DIR) or "s3" (a bucket of any
    # S3-compatible service; see docs/OPERATIONS.md, Object storage).
    storage: str = "local"  # PORTAL_STORAGE
    s3_bucket: str = ""  # PORTAL_S3_BUCKET
    s3_endpoint_url: str = ""  # PORTAL_S3_ENDPOINT_URL (empty: AWS itself)
    s3_region: str = ""  # PORTAL_S3_REGION
    s3_access_key: str = ""  # PORTAL_S3_ACCESS_KEY (empty: boto3's own credential chain)
    s3_secret_key: str = ""  # PORTAL_S3_SECRET_KEY
    s3_prefix: str = ""  # PORTAL_S3_PREFIX (keys under this folder of the bucket)
    # Email (notifications, weekly briefings). No host: nothing is mailed.
    smtp_host: str = ""  # PORTAL_SMTP_HOST
    smtp_port: int = 25  # PORTAL_SMTP_PORT
    smtp_security: str = "none"  # PORTAL_SMTP_SECURITY: none | starttls | ssl
    smtp_user: str = ""  # PORTAL_SMTP_USER
    smtp_password: str = ""  # PORTAL_SMTP_PASSWORD
    mail_from: str = "Station Portal <portal@localhost>"  # PORTAL_MAIL_FROM
    # PORTAL_SMS_SENDER: how outage notices reach phones. Empty: no SMS gateway (the notices
    # are recorded as not sent); "log": written to the log (demo, tests); "module:function":
    # a gateway adapter called as function(phone, text), raising on failure.
    sms_sender: str = ""
    # The address people use to reach the portal, for links in emails.
    public_url: str = "http://127.0.0.1:8050"  # PORTAL_PUBLIC_URL
    # Demo mode only: new calls and crews moving, every minute, from the scheduler.
    simulate: bool = True  # PORTAL_SIMULATE
    # Networks whose devices may take hall queue tickets (comma-separated CIDR, e.g. the
    # halls' LAN). Empty: any address in demo mode, none in production; to let any
    # address take tickets in production, write 0.0.0.0/0,::/0.
    kiosk_networks: str = ""  # PORTAL_KIOSK_NETWORKS
    # The database pool of each process (PostgreSQL; SQLite keeps SQLAlchemy's own). A web
    # worker holds at most pool_size + max_overflow connections.
    database_pool_size: int = 5  # PORTAL_DATABASE_POOL_SIZE
    database_max_overflow: int = 10  # PORTAL_DATABASE_MAX_OVERFLOW
    database_pool_timeout: int = 30  # PORTAL_DATABASE_POOL_TIMEOUT (seconds to wait for one)
    database_pool_recycle: int = 1800  # PORTAL_DATABASE_POOL_RECYCLE (seconds; 0: never)
    # Behind PgBouncer in transaction mode: no server-side prepared statements.
    database_pgbouncer: bool = False  # PORTAL_DATABASE_PGBOUNCER
    # The web server (gunicorn.conf.py).
    web_workers: int = 2  # PORTAL_WEB_WORKERS (processes)
    web_threads: int = 4  # PORTAL_WEB_THREADS (per process)
    web_timeout: int = 60  # PORTAL_WEB_TIMEOUT (seconds a request may take before the worker is killed)
    web_graceful_timeout: int = 30  # PORTAL_WEB_GRACEFUL_TIMEOUT (seconds to finish on a stop)
    # Addresses of the reverse proxies whose X-Forwarded-Proto gunicorn believes.
    forwarded_allow_ips: str = "127.0.0.1,::1"  # PORTAL_FORWARDED_ALLOW_IPS
    # gunicorn's own access line, besides the portal's request line (which carries more).
    access_log: bool = False  # PORTAL_ACCESS_LOG
    # Logs: "json" (one object a line), "text", or "auto": json in production, text in demo.
    log_format: str = "auto"  # PORTAL_LOG_FORMAT
    log_level: str = "INFO"  # PORTAL_LOG_LEVEL
    # /metrics (Prometheus): who may read it. A bearer token, networks, or both; with
    # neither, only this host (demo) or nobody (production).
    metrics_token: str = ""  # PORTAL_METRICS_TOKEN
    metrics_networks: str = ""  # PORTAL_METRICS_NETWORKS
    # /readyz: the scheduler's lease must have been renewed this recently (0: not checked).
    ready_scheduler_seconds: int = 90  # PORTAL_READY_SCHEDULER_SECONDS
    # Retention (the nightly prune job, jobs/retention.py): days each kind of record is
    # kept; 0 keeps it for ever. See docs/OPERATIONS.md, Retention.
    # Crew position pings: personal location data, kept no longer than needed (PIPL art.
    # 19); a ping older than two hours no longer places a crew anyway.
    retention_pings_days: int = 30  # PORTAL_RETENTION_PINGS_DAYS
    # The audit trail (audit_events: sign-ins and failures, sessions ended, tokens,
    # accounts, hall queue and grid-works changes), the portal's network log: the
    # Cybersecurity Law (网络安全法) art. 21(3) requires at least six months, so 0 or at
    # least 184 days (the longest six calendar months). Work orders' own timelines are
    # not audit rows here: they stay as long as their order.
    retention_audit_days: int = 365  # PORTAL_RETENTION_AUDIT_DAYS
    # Notifications (read or not) and their email, once their email is no longer pending.
    retention_notifications_days: int = 180  # PORTAL_RETENTION_NOTIFICATIONS_DAYS
    # Scheduler runs: successful ones, and failed ones (kept at least as long).
    retention_job_runs_days: int = 30  # PORTAL_RETENTION_JOB_RUNS_DAYS
    retention_failed_job_runs_days: int = 180  # PORTAL_RETENTION_FAILED_JOB_RUNS_DAYS
    # Sign-in sessions after they ended (or died idle) and API tokens after they
    # expired or were revoked. The sign-ins themselves are audit rows.
    retention_sessions_days: int = 30  # PORTAL_RETENTION_SESSIONS_DAYS
    # Finished hall queue tickets: the halls dashboard's statistics, so kept by default;
    # otherwise at least 366 days (the dashboard's year).
    retention_hall_tickets_days: int = 0  # PORTAL_RETENTION_HALL_TICKETS_DAYS
    # Rows deleted per transaction, and the seconds one prune run may spend (what is
    # left goes the next night).
    retention_batch_size: int = 5000  # PORTAL_RETENTION_BATCH_SIZE
    retention_max_seconds: int = 900  # PORTAL_RETENTION_MAX_SECONDS

    _ENV_NAMES = {
        "env": "PORTAL_ENV",
        "database_url": "DATABASE_URL",
        "secret_key": "SECRET_KEY",
        "idle_timeout_minutes": "PORTAL_IDLE_TIMEOUT_MINUTES",
        "session_max_hours": "PORTAL_SESSION_MAX_HOURS",
        "login_max_failures_per_network": "PORTAL_LOGIN_MAX_FAILURES",
        "login_max_failures_per_address": "PORTAL_LOGIN_MAX_FAILURES_PER_ADDRESS",
        "login_account_ceiling": "PORTAL_LOGIN_ACCOUNT_CEILING",
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
        "storage": "PORTAL_STORAGE",
        "s3_bucket": "PORTAL_S3_BUCKET",
        "s3_endpoint_url": "PORTAL_S3_ENDPOINT_URL",
        "s3_region": "PORTAL_S3_REGION",
        "s3_access_key": "PORTAL_S3_ACCESS_KEY",
        "s3_secret_key": "PORTAL_S3_SECRET_KEY",
        "s3_prefix": "PORTAL_S3_PREFIX",
        "smtp_host": "PORTAL_SMTP_HOST",
        "smtp_port": "PORTAL_SMTP_PORT",
        "smtp_security": "PORTAL_SMTP_SECURITY",
        "smtp_user": "PORTAL_SMTP_USER",
        "smtp_password": "PORTAL_SMTP_PASSWORD",
        "mail_from": "PORTAL_MAIL_FROM",
        "sms_sender": "PORTAL_SMS_SENDER",
        "public_url": "PORTAL_PUBLIC_URL",
        "simulate": "PORTAL_SIMULATE",
        "kiosk_networks": "PORTAL_KIOSK_NETWORKS",
        "database_pool_size": "PORTAL_DATABASE_POOL_SIZE",
        "database_max_overflow": "PORTAL_DATABASE_MAX_OVERFLOW",
        "database_pool_timeout": "PORTAL_DATABASE_POOL_TIMEOUT",
        "database_pool_recycle": "PORTAL_DATABASE_POOL_RECYCLE",
        "database_pgbouncer": "PORTAL_DATABASE_PGBOUNCER",
        "web_workers": "PORTAL_WEB_WORKERS",
        "web_threads": "PORTAL_WEB_THREADS",
        "web_timeout": "PORTAL_WEB_TIMEOUT",
        "web_graceful_timeout": "PORTAL_WEB_GRACEFUL_TIMEOUT",
        "forwarded_allow_ips": "PORTAL_FORWARDED_ALLOW_IPS",
        "access_log": "PORTAL_ACCESS_LOG",
        "log_format": "PORTAL_LOG_FORMAT",
        "log_level": "PORTAL_LOG_LEVEL",
        "metrics_token": "PORTAL_METRICS_TOKEN",
        "metrics_networks": "PORTAL_METRICS_NETWORKS",
        "ready_scheduler_seconds": "PORTAL_READY_SCHEDULER_SECONDS",
        "retention_pings_days": "PORTAL_RETENTION_PINGS_DAYS",
        "retention_audit_days": "PORTAL_RETENTION_AUDIT_DAYS",
        "retention_notifications_days": "PORTAL_RETENTION_NOTIFICATIONS_DAYS",
        "retention_job_runs_days": "PORTAL_RETENTION_JOB_RUNS_DAYS",
        "retention_failed_job_runs_days": "PORTAL_RETENTION_FAILED_JOB_RUNS_DAYS",
        "retention_sessions_days": "PORTAL_RETENTION_SESSIONS_DAYS",
        "retention_hall_tickets_days": "PORTAL_RETENTION_HALL_TICKETS_DAYS",
        "retention_batch_size": "PORTAL_RETENTION_BATCH_SIZE",
        "retention_max_seconds": "PORTAL_RETENTION_MAX_SECONDS",
    }
    # Other names accepted for a setting (each beside the one above, never against it).
    _ALIASES = {"database_url": ("PORTAL_DATABASE_URL",)}

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
            raw = _read(environ, var, cls._ALIASES.get(name, ()))
            if raw is None:
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
        for value, var in ((self.login_max_failures_per_network, "PORTAL_LOGIN_MAX_FAILURES"),
                           (self.login_max_failures_per_address,
                            "PORTAL_LOGIN_MAX_FAILURES_PER_ADDRESS"),
                           (self.login_account_ceiling, "PORTAL_LOGIN_ACCOUNT_CEILING"),
                           (self.login_window_minutes, "PORTAL_LOGIN_WINDOW_MINUTES"),
                           (self.login_lock_minutes, "PORTAL_LOGIN_LOCK_MINUTES")):
            if value < 1:
                raise ConfigError(f"{var} must be at least 1")
        if self.default_locale not in ("zh_CN", "en"):
            raise ConfigError("PORTAL_DEFAULT_LOCALE must be 'zh_CN' or 'en'")
        if not 1 <= self.api_token_hours <= MAX_API_TOKEN_HOURS:
            raise ConfigError(
                f"PORTAL_API_TOKEN_HOURS must be between 1 and {MAX_API_TOKEN_HOURS}")
        self._validate_upload_dir()
        self._validate_storage()
        if self.smtp_security not in ("none", "starttls", "ssl"):
            raise ConfigError("PORTAL_SMTP_SECURITY must be 'none', 'starttls' or 'ssl'")
        if not 1 <= self.smtp_port <= 65535:
            raise ConfigError("PORTAL_SMTP_PORT must be a port number")
        self.kiosk_network_list()
        self._validate_database_pool()
        self._validate_web_server()
        self._validate_observability()
        self._validate_retention()
        if self.env == PRODUCTION:
            weak = self.secret_key.strip().lower() in _PLACEHOLDER_SECRETS
            if weak or len(self.secret_key) < 32:
                raise ConfigError(
                    "Production needs a real SECRET_KEY (at least 32 random characters), "
                    "for example: python -c 'import secrets; print(secrets.token_hex(32))'"
                )

    def _validate_database_pool(self) -> None:
        if not 1 <= self.database_pool_size <= 500:
            raise ConfigError("PORTAL_DATABASE_POOL_SIZE must be between 1 and 500")
        if not 0 <= self.database_max_overflow <= 500:
            raise ConfigError("PORTAL_DATABASE_MAX_OVERFLOW must be between 0 and 500")
        if not 1 <= self.database_pool_timeout <= 600:
            raise ConfigError("PORTAL_DATABASE_POOL_TIMEOUT must be between 1 and 600 seconds")
        if self.database_pool_recycle < 0:
            raise ConfigError("PORTAL_DATABASE_POOL_RECYCLE must be 0 (never) or a number of seconds")
        if self.database_pgbouncer and self.is_sqlite:
            raise ConfigError("PORTAL_DATABASE_PGBOUNCER is for PostgreSQL behind PgBouncer, "
                              "but DATABASE_URL names SQLite")

    def _validate_web_server(self) -> None:
        if not 1 <= self.web_workers <= 256:
            raise ConfigError("PORTAL_WEB_WORKERS must be between 1 and 256")
        if not 1 <= self.web_threads <= 256:
            raise ConfigError("PORTAL_WEB_THREADS must be between 1 and 256")
        if not 5 <= self.web_timeout <= 3600:
            raise ConfigError("PORTAL_WEB_TIMEOUT must be between 5 and 3600 seconds")
        if not 1 <= self.web_graceful_timeout <= 3600:
            raise ConfigError("PORTAL_WEB_GRACEFUL_TIMEOUT must be between 1 and 3600 seconds")
        if self.forwarded_allow_ips.strip() != "*":
            _networks(self.forwarded_allow_ips, "PORTAL_FORWARDED_ALLOW_IPS")

    def _validate_observability(self) -> None:
        if self.log_format not in ("auto", "json", "text"):
            raise ConfigError("PORTAL_LOG_FORMAT must be 'auto', 'json' or 'text'")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ConfigError("PORTAL_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        if self.metrics_token and (len(self.metrics_token) < 32 or not self.metrics_token.isprintable()
                                   or " " in self.metrics_token):
            raise ConfigError("PORTAL_METRICS_TOKEN must be at least 32 printable characters "
                              "without spaces, e.g. python -c 'import secrets; "
                              "print(secrets.token_hex(32))'")
        self.metrics_network_list()
        if self.ready_scheduler_seconds < 0:
            raise ConfigError("PORTAL_READY_SCHEDULER_SECONDS must be 0 (not checked) or more")

    def _validate_retention(self) -> None:
        for value, var, least in (
                (self.retention_pings_days, "PORTAL_RETENTION_PINGS_DAYS", 1),
                (self.retention_audit_days, "PORTAL_RETENTION_AUDIT_DAYS", MIN_AUDIT_DAYS),
                (self.retention_notifications_days, "PORTAL_RETENTION_NOTIFICATIONS_DAYS", 7),
                (self.retention_job_runs_days, "PORTAL_RETENTION_JOB_RUNS_DAYS", 8),
                (self.retention_failed_job_runs_days, "PORTAL_RETENTION_FAILED_JOB_RUNS_DAYS", 8),
                (self.retention_sessions_days, "PORTAL_RETENTION_SESSIONS_DAYS", 1),
                (self.retention_hall_tickets_days, "PORTAL_RETENTION_HALL_TICKETS_DAYS", 366)):
            if value != 0 and not least <= value <= MAX_RETENTION_DAYS:
                why = (" (the Cybersecurity Law, art. 21(3), requires network logs to be kept "
                       "at least six months)" if least == MIN_AUDIT_DAYS else "")
                raise ConfigError(f"{var} must be 0 (keep for ever) or between {least} and "
                                  f"{MAX_RETENTION_DAYS} days{why}, not {value}")
        ok, failed = self.retention_job_runs_days, self.retention_failed_job_runs_days
        if failed and (ok == 0 or failed < ok):
            raise ConfigError("PORTAL_RETENTION_FAILED_JOB_RUNS_DAYS must keep failed runs at "
                              "least as long as PORTAL_RETENTION_JOB_RUNS_DAYS keeps successful "
                              "ones (0 there means 0 here too)")
        if not 100 <= self.retention_batch_size <= 100_000:
            raise ConfigError("PORTAL_RETENTION_BATCH_SIZE must be between 100 and 100000 rows")
        if not 10 <= self.retention_max_seconds <= 86_400:
            raise ConfigError("PORTAL_RETENTION_MAX_SECONDS must be between 10 and 86400 seconds")

    def check_deployment(self) -> None:
        """What a production *process* needs beyond valid settings; a ConfigError otherwise.

        Called where a process starts (``gunicorn.conf.py``, ``wsgi.py``, ``station-portal
        serve`` and ``scheduler``), not by ``create_app``, so that tests can still build a
        production-mode app on SQLite to check how production behaves.
        """
        if self.is_demo:
            return
        if self.is_sqlite:
            raise ConfigError(
                "Production mode refuses SQLite (DATABASE_URL is "
                f"{self.database_url.split('?', 1)[0]}): one database file cannot be shared by "
                "several web hosts and the scheduler. Point DATABASE_URL at PostgreSQL, e.g. "
                "postgresql://portal@db.internal/portal, or use PORTAL_ENV=demo for a first look.")

    @property
    def log_json(self) -> bool:
        """Logs as JSON lines: asked for, or by default in production."""
        return self.log_format == "json" or (self.log_format == "auto" and not self.is_demo)

    @property
    def cookies_secure(self) -> bool:
        """Cookies carry Secure: always in production (it runs behind HTTPS), on request in demo."""
        return self.secure_cookies or not self.is_demo

    def database_options(self) -> dict[str, object]:
        """Keyword arguments of :class:`station_portal.db.Database` for this configuration."""
        return {
            "echo": self.sql_echo,
            "pool_size": self.database_pool_size,
            "max_overflow": self.database_max_overflow,
            "pool_timeout": self.database_pool_timeout,
            "pool_recycle": self.database_pool_recycle or -1,
            "pgbouncer": self.database_pgbouncer,
        }

    def _validate_upload_dir(self) -> None:
        if not self.upload_dir.strip():
            raise ConfigError("PORTAL_UPLOAD_DIR must name a folder")
        target = Path(self.upload_dir).expanduser().resolve()
        package = package_dir()
        for served in (resource_dir("assets"), package):
            if target == served or served in target.parents:
                raise ConfigError(
                    f"PORTAL_UPLOAD_DIR must lie outside {served}: uploads must never be served "
                    "as static files")

    def _validate_storage(self) -> None:
        if self.storage not in ("local", "s3"):
            raise ConfigError(f"PORTAL_STORAGE must be 'local' or 's3', not {self.storage!r}")
        if self.storage != "s3":
            return
        if not _S3_BUCKET_RE.match(self.s3_bucket):
            raise ConfigError(
                "PORTAL_STORAGE=s3 needs PORTAL_S3_BUCKET: a bucket name of 3 to 63 lower-case "
                "letters, digits, '.' or '-'" + (f", not {self.s3_bucket!r}" if self.s3_bucket
                                                  else ""))
        if self.s3_endpoint_url and not re.match(r"^https?://[^\s/]+(/\S*)?$",
                                                 self.s3_endpoint_url):
            raise ConfigError("PORTAL_S3_ENDPOINT_URL must be an http:// or https:// address, "
                              "e.g. https://minio.internal:9000")
        if bool(self.s3_access_key) != bool(self.s3_secret_key):
            raise ConfigError("PORTAL_S3_ACCESS_KEY and PORTAL_S3_SECRET_KEY go together: set "
                              "both, or neither to use boto3's own credentials")
        if self.s3_prefix and not _S3_PREFIX_RE.match(self.s3_prefix.strip("/") + "/"):
            raise ConfigError("PORTAL_S3_PREFIX must be up to three folder names of letters, "
                              "digits, '.', '-' or '_', e.g. portal/uploads")

    def kiosk_network_list(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """``PORTAL_KIOSK_NETWORKS`` parsed (empty: see :meth:`kiosk_allows`)."""
        return _networks(self.kiosk_networks, "PORTAL_KIOSK_NETWORKS")

    def kiosk_allows(self, ip: str | None) -> bool:
        """Whether a device at ``ip`` may take hall queue tickets: one inside
        ``PORTAL_KIOSK_NETWORKS``; with none set, any in demo mode and none in production."""
        networks = self.kiosk_network_list()
        if not networks:
            return self.is_demo
        try:
            address = ipaddress.ip_address((ip or "").split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in networks)

    def metrics_network_list(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """``PORTAL_METRICS_NETWORKS`` parsed (empty: see :attr:`metrics_token`)."""
        return _networks(self.metrics_networks, "PORTAL_METRICS_NETWORKS")

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
