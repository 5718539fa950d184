"""Sign-in limits: counted before the password is checked (a parallel burst cannot pass the
limit), per account and address with growing waits (nobody can lock the owner out from
elsewhere), per address across accounts; the waits end by the clock. Argon2 runs off the
event loop in a bounded pool."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from app.accounts import clock, service
from tests.support import World, login


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def fixed_clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(clock, "now", c)
    return c


class CountingHasher:
    """The real hasher, counting the passwords it checks (and how many at once)."""

    def __init__(self, real) -> None:
        self.real = real
        self.verified = 0
        self.running = 0
        self.most_at_once = 0
        self.lock = threading.Lock()

    def verify(self, hash_, password):
        with self.lock:
            self.verified += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            return self.real.verify(hash_, password)
        finally:
            with self.lock:
                self.running -= 1

    def __getattr__(self, name):
        return getattr(self.real, name)


async def test_a_parallel_burst_cannot_pass_the_limit(world, monkeypatch):
    counting = CountingHasher(service._hasher)
    monkeypatch.setattr(service, "_hasher", counting)
    email = world.users["a_staff"]
    # Someone who does not know the password: 40 guesses at once, at most 5 checked.
    guesses = ["Wrong-pass-%03d" % i for i in range(40)]
    results = await asyncio.gather(*(service.authenticate(email, p, "203.0.113.7") for p in guesses))
    checked = [r for r in results if not r.retry_after]
    assert counting.verified <= 5, counting.verified
    assert len(checked) <= 5
    assert sum(1 for r in results if r.retry_after) >= 35
    # The right password among 39 guesses (another address, its own limit). Whichever of them
    # is checked first, at most 5 are checked before the right one; if the right one is among
    # them, the person is signed in, which forgets this address's count for the account (as
    # any successful sign-in does), and the guesses still waiting get at most 5 more.
    counting.verified = 0
    passwords = ["Wrong-pass-%03d" % i for i in range(39)] + [World.PASSWORD]
    results = await asyncio.gather(*(service.authenticate(email, p, "203.0.113.8") for p in passwords))
    signed_in = results[-1].user_id is not None
    assert counting.verified <= (10 if signed_in else 5), (counting.verified, signed_in)
    assert sum(1 for r in results if r.retry_after) >= (30 if signed_in else 35)


async def test_the_wait_ends_by_the_clock_and_grows(world, fixed_clock):
    email, ip = world.users["a_staff"], "203.0.113.7"
    for _ in range(5):
        wrong = await service.authenticate(email, "Wrong-pass-000", ip)
        assert wrong.user_id is None and wrong.retry_after == 0 and wrong.error
    blocked = await service.authenticate(email, World.PASSWORD, ip)  # even the right password waits
    assert blocked.user_id is None and blocked.retry_after == 60
    fixed_clock.advance(59)
    assert (await service.authenticate(email, World.PASSWORD, ip)).retry_after == 1
    fixed_clock.advance(2)  # the first wait is over: five more tries
    for _ in range(5):
        assert (await service.authenticate(email, "Wrong-pass-000", ip)).retry_after == 0
    assert (await service.authenticate(email, World.PASSWORD, ip)).retry_after == 120  # the wait doubles
    fixed_clock.advance(119)
    assert (await service.authenticate(email, World.PASSWORD, ip)).user_id is None
    fixed_clock.advance(2)
    assert (await service.authenticate(email, World.PASSWORD, ip)).user_id is not None
    # A success forgets the rounds: the next wait starts at a minute again.
    for _ in range(5):
        await service.authenticate(email, "Wrong-pass-000", ip)
    assert (await service.authenticate(email, World.PASSWORD, ip)).retry_after == 60


async def test_guessing_from_one_address_does_not_lock_out_the_owner(world, fixed_clock):
    email = world.users["a_staff"]
    for _ in range(12):
        await service.authenticate(email, "Wrong-pass-000", "198.51.100.66")
    assert (await service.authenticate(email, World.PASSWORD, "198.51.100.66")).retry_after > 0
    owner = await service.authenticate(email, World.PASSWORD, "203.0.113.7")
    assert owner.user_id is not None


async def test_one_address_cannot_try_many_accounts(world, fixed_clock):
    ip = "198.51.100.66"
    accounts = [world.users[k] for k in ("a_staff", "a_admin", "b_staff", "b_admin", "city_staff")]
    for email in accounts:
        for _ in range(4):
            assert (await service.authenticate(email, "Wrong-pass-000", ip)).retry_after == 0
    refused = await service.authenticate(world.users["union_rep"], World.PASSWORD, ip)
    assert refused.user_id is None and refused.retry_after == 900
    fixed_clock.advance(901)  # the window ends by itself
    assert (await service.authenticate(world.users["union_rep"], World.PASSWORD, ip)).user_id is not None


async def test_sign_in_page_says_how_long_to_wait(client, world, fixed_clock):
    email = world.users["a_staff"]
    for _ in range(5):
        assert (await login(client, email, "Wrong-pass-000")).status_code == 400
    blocked = await login(client, email, World.PASSWORD)
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts. Try again in 1 minutes." in blocked.text
    fixed_clock.advance(61)
    assert (await login(client, email, World.PASSWORD)).status_code == 303


async def test_the_limit_table_holds_no_emails_or_addresses(world, fixed_clock):
    from app.accounts.tables import LoginThrottle

    await service.authenticate(world.users["a_staff"], "Wrong-pass-000", "203.0.113.7")
    rows = str(await LoginThrottle.select())
    assert "a_staff" not in rows and "203.0.113.7" not in rows


async def test_argon2_runs_off_the_event_loop_in_a_bounded_pool(world, monkeypatch):
    """Failed sign-ins with production-strength Argon2 while a ticker measures how late the
    event loop wakes it: hashing on the loop makes it wait a whole hash each time."""
    from argon2 import PasswordHasher

    from app.accounts.tables import User

    strong = CountingHasher(PasswordHasher(time_cost=3, memory_cost=65536, parallelism=1))
    monkeypatch.setattr(service, "_hasher", strong)
    email = world.users["a_staff"]
    await User.update({User.password_hash: strong.real.hash(World.PASSWORD)}).where(User.email == email)
    started = time.perf_counter()
    strong.real.verify(strong.real.hash("x"), "x")
    one_hash = time.perf_counter() - started
    assert one_hash > 0.02  # strong enough to see

    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker():
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    await asyncio.gather(*(service.authenticate(email, "Wrong-pass-%03d" % i, f"192.0.2.{i}") for i in range(8)))
    stop.set()
    await tick
    assert strong.verified == 8
    assert strong.most_at_once <= service.HASH_THREADS
    gaps.sort()
    # The loop kept ticking: no pause anywhere near the length of one hash.
    assert gaps[-1] < one_hash * 0.6, (gaps[-3:], one_hash)
