"""Every private outreach route of district-a, tried by every outsider: the same 404 as a missing tenant."""

from __future__ import annotations

from datetime import date

import pytest

from app.outreach.tables import Hotline, InfoCard, OutreachEntry
from tenants.scope import tenant_scope, unscoped
from tests.support import csrf_token, login

OUTSIDERS = ["b_admin", "b_staff", "ent_a_admin", "ent_a_staff", "union_admin", "union_rep", "city_staff"]


async def _rows(tenant_id: int) -> dict[str, int]:
    with tenant_scope(tenant_id):
        hotline = Hotline(tenant=tenant_id, label="h", number="12333")
        card = InfoCard(tenant=tenant_id, code="ISOLATE2", title="c")
        await hotline.save()
        await card.save()
        entry = OutreachEntry(tenant=tenant_id, day=date(2024, 5, 16), kind="visit", quantity=1)
        await entry.save()
    return {"h": hotline.id, "c": card.id, "e": entry.id}


def _main(html: str) -> str:
    return html[html.index("<main"): html.index("</main>")]


@pytest.mark.parametrize("who", OUTSIDERS)
async def test_outsiders_get_404_on_every_outreach_route(client, world, who):
    ids = await _rows(world.tenants["a"]["id"])
    await login(client, world.users[who])
    gets = ["hotlines", f"hotlines/{ids['h']}/edit", "cards", "cards/new", f"cards/{ids['c']}/edit", "outreach"]
    posts = ["hotlines", f"hotlines/{ids['h']}/edit", f"hotlines/{ids['h']}/delete", "cards/new",
             f"cards/{ids['c']}/edit", f"cards/{ids['c']}/delete", f"cards/{ids['c']}/distributed", "outreach",
             f"outreach/{ids['e']}/delete"]
    for path in gets:
        foreign = await client.get(f"/manage/district-a/{path}")
        missing = await client.get(f"/manage/no-such-tenant/{path}")
        assert foreign.status_code == missing.status_code == 404, (who, path)
        assert _main(foreign.text) == _main(missing.text)
    for path in posts:
        resp = await client.post(f"/manage/district-a/{path}",
                                 data={"label": "x", "number": "12333", "title": "x", "count": "1", "kind": "visit",
                                       "day": "2024-05-16", "_csrf_token": csrf_token(client)})
        assert resp.status_code == 404, (who, path)
    with unscoped("test"):
        assert (await Hotline.count(), await InfoCard.count(), await OutreachEntry.count()) == (1, 1, 1)
        assert (await Hotline.select(Hotline.label).first())["label"] == "h"


async def test_anonymous_is_sent_to_sign_in(client, world):
    for path in ("/manage/district-a/hotlines", "/manage/district-a/cards", "/manage/district-a/outreach", "/city/outreach"):
        resp = await client.get(path, follow_redirects=False)
        assert resp.status_code == 303 and resp.headers["location"].startswith("/login?next="), path
