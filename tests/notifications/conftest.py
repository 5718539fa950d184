import pytest


@pytest.fixture(autouse=True)
def fresh_settings():
    """Tests here point SMTP and SMS at their own servers; forget those afterwards."""
    from app.settings import get_settings

    yield
    get_settings.cache_clear()
