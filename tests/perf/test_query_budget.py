"""Queries per page stay within a budget on the demo data (dozens of organisations,
events, feedback, outreach rows), so an N+1 (a query per listed row) cannot creep in:
it would cost dozens of queries on these pages, the budgets allow a handful.

Counts every statement the engine runs while the request is served, on SQLite and on
PostgreSQL, signed in (staff pages) and with the page cache off (public pages)."""

from __future__ import annotations

import re

import pytest

from bench.pages.targets import PUBLIC_PAGES, STAFF_PAGES
from tests.support import login

# Statements per request, measured on the demo data; raise one only with a reason.
# A signed-in request costs 1 before the page's own: its session joined to the person and
# their memberships (one statement by the unique key_hash index, app/core/sessions.py).
STAFF_BUDGET = {
    "/manage/chengdong/": 4,
    "/manage/chengdong/events": 6,
    "/manage/chengdong/feedback": 3,
    "/manage/chengdong/hotlines": 4,
    "/manage/chengdong/cards": 5,
    "/manage/chengdong/outreach": 8,
    "/manage/chengdong/notifications": 3,
    "/manage/chengdong/members": 4,  # and the pending invitations
    "/manage/chengdong/settings": 1,
    "/manage/chengdong/audit": 2,
    "/manage/chengdong/coverage": 8,
    "/city/": 2,
    "/city/outreach": 9,
    "/city/events": 8,
    "/city/feedback": 4,
    "/city/health": 9,  # and events held, feedback past its deadline
}
PUBLIC_BUDGET = {
    "/": 3,
    "/?kind=district_center": 3,
    "/o/chengdong/": 5,
    "/hotlines": 2,
    "CARD": 3,
    "/o/chengdong/feedback": 2,
    "/track": 0,
    "/events": 2,
    "/events?view=month": 2,
    "/o/chengdong/events": 2,
    "EVENT": 2,
}


@pytest.fixture
async def demo():
    from app.directory.demo import seed_demo

    await seed_demo()


@pytest.fixture
def statements(monkeypatch):
    """Every statement the engine runs, in order."""
    from app.db import get_engine

    engine_class = type(get_engine())
    real = engine_class.run_querystring
    seen: list[str] = []

    async def counting(self, querystring, in_pool: bool = False):
        seen.append(str(querystring))
        return await real(self, querystring, in_pool=in_pool)

    monkeypatch.setattr(engine_class, "run_querystring", counting)
    return seen


async def _count(client, statements, path: str) -> int:
    await client.get(path)  # warm: the tenant row and such are cached per version
    statements.clear()
    response = await client.get(path)
    assert response.status_code == 200, path
    return len(statements)


# Seeding the demo data is slow on PostgreSQL (a connection per statement under test): one seed.
@pytest.mark.timeout(900)
async def test_pages_stay_within_their_query_budget(client, demo, statements, monkeypatch):
    await _signed_in_pages(client, statements)
    client.cookies.clear()
    await _public_pages_rendered_every_time(client, statements, monkeypatch)


async def _signed_in_pages(client, statements):
    from app.directory.demo import PASSWORD

    assert {path for _label, _email, path in STAFF_PAGES} == set(STAFF_BUDGET)
    over = {}
    for email in sorted({email for _label, email, _path in STAFF_PAGES}):
        client.cookies.clear()
        assert (await login(client, email, PASSWORD)).status_code == 303
        for _label, page_email, path in STAFF_PAGES:
            if page_email == email:
                count = await _count(client, statements, path)
                if count > STAFF_BUDGET[path]:
                    over[path] = (count, STAFF_BUDGET[path], statements[:])
    assert not over, {path: f"{n} statements, budget {budget}" for path, (n, budget, _s) in over.items()}


async def _public_pages_rendered_every_time(client, statements, monkeypatch):
    from app.core import pagecache

    monkeypatch.setattr(pagecache, "ENABLED", False)
    listing = (await client.get("/o/chengdong/")).text
    card = re.search(r'href="(/o/[^/"]+/cards/[^/"?]+)"', listing).group(1)
    event = re.search(r'href="(/o/[^/"]+/events/\d+)"', (await client.get("/o/chengdong/events")).text).group(1)
    over = {}
    for _label, path in PUBLIC_PAGES:
        key = "CARD" if path.startswith("FIRST_CARD_OF:") else "EVENT" if path.startswith("FIRST_EVENT_OF:") else path
        real_path = card if key == "CARD" else event if key == "EVENT" else path
        count = await _count(client, statements, real_path)
        if count > PUBLIC_BUDGET[key]:
            over[real_path] = f"{count} statements, budget {PUBLIC_BUDGET[key]}"
    assert not over, over
