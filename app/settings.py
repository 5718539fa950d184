"""Configuration, read once from the environment (see README, "Configuration")."""

from __future__ import annotations

import functools
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    redis_url: str
    secret_key: str
    base_url: str
    default_locale: str
    time_zone: str
    var_dir: Path
    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_password: str
    smtp_security: str  # "none", "starttls" or "tls"
    smtp_from: str
    email_delivery: str  # "smtp", or "file" (var/outbox/, development)
    sms_gateway: str  # "console", "file" or "http"
    sms_gateway_url: str
    sms_gateway_key: str
    login_attempts: int
    login_window_seconds: int
    base_url_set: bool = False  # BASE_URL given: printed QR codes use it, else the request's address
    event_registrations_per_address: int = 20  # public event registrations per address in 10 minutes
    uploads_dir: Path = ROOT / "var" / "uploads"  # files people upload; backed up with the database
    log_format: str = "text"  # "json" (one object per line) or "text"
    metrics_address: str = ""  # host:port of the web server's Prometheus endpoint; empty: none
    worker_metrics_address: str = ""  # host:port of the worker's Prometheus endpoint; empty: none
    backup_dir: str = ""  # the worker's nightly backup goes here when set
    backup_keep: int = 14  # backups kept in backup_dir (older ones are deleted)
    database_pool_size: int = 20  # PostgreSQL: connections each process (web or worker) may open

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


def _secret_key(env: str, var_dir: Path) -> str:
    key = os.environ.get("SECRET_KEY", "")
    if key:
        return key
    if env == "production":
        raise ConfigurationError("SECRET_KEY must be set when TIAOJIE_ENV=production")
    # Development: generate once and keep it, so sessions survive restarts.
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings() -> Settings:
    env = os.environ.get("TIAOJIE_ENV", "development")
    if env not in ("development", "production", "test"):
        raise ConfigurationError(f"TIAOJIE_ENV must be development, production or test, not {env!r}")
    var_dir = Path(os.environ.get("TIAOJIE_VAR_DIR", ROOT / "var"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'tiaojie.sqlite3'}"
    port = os.environ.get("PORT", "8000")
    host = os.environ.get("HOST", "127.0.0.1")
    return Settings(
        env=env,
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL", ""),
        secret_key=_secret_key(env, var_dir),
        base_url=os.environ.get("BASE_URL", f"http://{host}:{port}").rstrip("/"),
        default_locale=os.environ.get("DEFAULT_LOCALE", "zh_Hans"),
        time_zone=os.environ.get("TIME_ZONE", "Asia/Shanghai"),
        var_dir=var_dir,
        smtp_host=os.environ.get("SMTP_HOST", "localhost"),
        smtp_port=int(os.environ.get("SMTP_PORT", "25")),
        smtp_username=os.environ.get("SMTP_USERNAME", ""),
        smtp_password=os.environ.get("SMTP_PASSWORD", ""),
        smtp_security=os.environ.get("SMTP_SECURITY", "none"),
        smtp_from=os.environ.get("SMTP_FROM", "noreply@tiaojie.local"),
        email_delivery=os.environ.get("EMAIL_DELIVERY", "file" if env == "development" else "smtp"),
        sms_gateway=os.environ.get("SMS_GATEWAY", "file" if env == "development" else "console"),
        sms_gateway_url=os.environ.get("SMS_GATEWAY_URL", ""),
        sms_gateway_key=os.environ.get("SMS_GATEWAY_KEY", ""),
        login_attempts=int(os.environ.get("LOGIN_MAX_ATTEMPTS", "5")),
        login_window_seconds=int(os.environ.get("LOGIN_WINDOW_SECONDS", "900")),
        base_url_set=bool(os.environ.get("BASE_URL")),
        event_registrations_per_address=int(os.environ.get("EVENT_REGISTRATIONS_PER_ADDRESS", "20")),
        uploads_dir=Path(os.environ.get("UPLOADS_DIR") or var_dir / "uploads"),
        log_format=os.environ.get("LOG_FORMAT", "json" if env == "production" else "text"),
        metrics_address=os.environ.get("METRICS_ADDRESS", ""),
        worker_metrics_address=os.environ.get("WORKER_METRICS_ADDRESS", ""),
        backup_dir=os.environ.get("BACKUP_DIR", ""),
        backup_keep=int(os.environ.get("BACKUP_KEEP", "14")),
        database_pool_size=int(os.environ.get("DATABASE_POOL_SIZE", "20")),
    )


@functools.cache
def get_settings() -> Settings:
    return load_settings()
