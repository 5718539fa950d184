from __future__ import annotations

import pytest
from litestar import get
from litestar.exceptions import TooManyRequestsException
from litestar.testing import AsyncTestClient

from app.main import create_app


@get("/test-only/slow-down", opt={"access": "public"})
async def slow_down() -> None:
    raise TooManyRequestsException(headers={"Retry-After": "60"})


@pytest.mark.parametrize(
    "language,title_404,title_429",
    [("zh-CN", "页面不存在", "请求过于频繁"), ("en", "Page not found", "Too many requests")],
)
async def test_error_pages_in_both_languages(language, title_404, title_429):
    app = create_app()
    app.register(slow_down)
    async with AsyncTestClient(app=app) as client:
        client.headers["Accept-Language"] = language
        missing = await client.get("/o/nowhere/")
        assert missing.status_code == 404 and title_404 in missing.text
        limited = await client.get("/test-only/slow-down")
        assert limited.status_code == 429 and title_429 in limited.text
        assert limited.headers["retry-after"] == "60"


async def test_default_locale_comes_from_the_environment(monkeypatch):
    from app import i18n, settings

    monkeypatch.setenv("DEFAULT_LOCALE", "en")
    settings.get_settings.cache_clear()
    try:
        assert i18n.negotiate(None, None) == "en"
        assert i18n.negotiate(None, "zh-CN") == "zh_Hans"  # the browser still decides first
    finally:
        monkeypatch.undo()
        settings.get_settings.cache_clear()
    assert i18n.negotiate(None, None) == "zh_Hans"
