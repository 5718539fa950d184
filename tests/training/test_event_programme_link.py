"""The staff page of a training event says which programme it is held for and links to
where the organisation follows that programme; an unlinked one says its attendance counts
for no one."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from app.training import service
from tenants.scope import tenant_scope
from tests.events.helpers import make_event
from tests.support import login
from tests.training.helpers import assign, assignment_of, make_programme


def _programme_fact(page: str) -> str:
    found = re.search(r"<dt>Training programme</dt>\s*<dd>(.*?)</dd>", page, re.S)
    return html.unescape(found.group(1)) if found else ""


async def test_a_training_event_links_to_its_programme_where_the_organisation_follows_it(world, client, clock):
    city, a = world.tenants["city"]["id"], world.tenants["a"]["id"]
    assigned = await make_programme(city, title="调解员技能培训项目", hours="2")
    await assign(city, assigned, targets=[a], required=1)
    top = await assignment_of(a, assigned)
    own = await make_programme(a, title="区级书记员培训", hours="1")
    for_city = await make_event(a, kind="training", title="技能培训第一场", starts_in=timedelta(days=2), hours=2)
    for_own = await make_event(a, kind="training", title="书记员培训", starts_in=timedelta(days=3), hours=1)
    unlinked = await make_event(a, kind="training", title="未关联的培训", starts_in=timedelta(days=4), hours=1)
    seminar = await make_event(a, kind="seminar", title="讲座", starts_in=timedelta(days=5), hours=1)
    with tenant_scope(a):
        await service.link_event(assigned, for_city["id"])
        await service.link_event(own, for_own["id"])

    await login(client, world.users["a_staff"])
    base = "/manage/district-a/events"
    fact = _programme_fact((await client.get(f"{base}/{for_city['id']}")).text)
    # The city's programme: district-a follows it on its assignment, not on the city's page.
    assert f'href="/manage/district-a/training/assignments/{top}">调解员技能培训项目</a>' in fact
    assert "once the event is marked as held" in fact
    fact = _programme_fact((await client.get(f"{base}/{for_own['id']}")).text)
    assert f'href="/manage/district-a/training/programmes/{own}">区级书记员培训</a>' in fact
    fact = _programme_fact((await client.get(f"{base}/{unlinked['id']}")).text)
    assert "counts for no one's training hours" in fact and 'href="/manage/district-a/training"' in fact
    assert "<dt>Training programme</dt>" not in (await client.get(f"{base}/{seminar['id']}")).text
