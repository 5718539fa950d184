import pytest


@pytest.fixture(autouse=True)
def english():
    """Service messages in English, so assertions read naturally (Chinese is tested explicitly)."""
    from app import i18n

    token = i18n.set_locale("en")
    yield
    i18n.reset_locale(token)


@pytest.fixture
def clock(monkeypatch):
    from tests.training.helpers import Clock

    return Clock(monkeypatch)
