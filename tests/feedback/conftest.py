import pytest


@pytest.fixture(autouse=True)
def real_clock_afterwards():
    """Tests here set the mailbox's clock; every test starts and ends on the real one."""
    from app.feedback import clock

    clock.set(None)
    yield
    clock.set(None)


@pytest.fixture(autouse=True)
def fresh_settings():
    """Some tests point the SMS gateway elsewhere; forget that afterwards."""
    from app.settings import get_settings

    yield
    get_settings.cache_clear()
