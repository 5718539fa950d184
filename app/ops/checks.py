"""Production start-up refuses settings that are only safe on a developer's machine.

``tiaojie serve``, ``tiaojie worker`` and the app factory call ``refuse_unsafe_production()``;
``tiaojie check`` prints the same list without starting anything.
"""

from __future__ import annotations

import os

from app.settings import ConfigurationError, Settings, get_settings

MIN_SECRET_KEY_LENGTH = 32


def production_problems(settings: Settings) -> list[str]:
    """What is unsafe about these settings for production, one sentence each."""
    problems: list[str] = []
    if len(settings.secret_key) < MIN_SECRET_KEY_LENGTH:
        problems.append(
            f"SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters; generate one with "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if not settings.base_url_set:
        problems.append("BASE_URL is not set; give the public https:// address, e.g. https://tiaojie.example.cn")
    elif not settings.base_url.startswith("https://"):
        problems.append(
            f"BASE_URL is {settings.base_url!r}; production needs an https:// address "
            "(cookies are marked Secure and HSTS is sent only then)"
        )
    if settings.email_delivery != "smtp":
        problems.append(
            f"EMAIL_DELIVERY is {settings.email_delivery!r}, a development mode that sends nothing; set it to smtp"
        )
    if settings.sms_gateway != "http":
        problems.append(
            f"SMS_GATEWAY is {settings.sms_gateway!r}, a development mode that sends nothing; "
            "set it to http with SMS_GATEWAY_URL and SMS_GATEWAY_KEY"
        )
    elif not settings.sms_gateway_url.startswith(("https://", "http://")):
        problems.append("SMS_GATEWAY is http but SMS_GATEWAY_URL is not set")
    if not settings.redis_url:
        problems.append(
            "REDIS_URL is not set; production uses a Redis server of its own "
            "(the embedded one of `tiaojie dev` keeps nothing and serves one machine)"
        )
    elif os.environ.get("TIAOJIE_EMBEDDED_REDIS"):
        problems.append("REDIS_URL points at the embedded Redis of `tiaojie dev`; production needs a Redis server")
    return problems


def refuse_unsafe_production(settings: Settings | None = None) -> None:
    """Raise ConfigurationError listing every problem when TIAOJIE_ENV=production."""
    settings = settings or get_settings()
    if not settings.production:
        return
    problems = production_problems(settings)
    if problems:
        raise ConfigurationError(
            "refusing to start with TIAOJIE_ENV=production:\n" + "\n".join(f"  - {p}" for p in problems)
        )
