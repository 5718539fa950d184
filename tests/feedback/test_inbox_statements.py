"""The mailbox's statements, composed once per filter combination (app/core/prepared.py),
list exactly what the same filters composed by Piccolo on every request list, in the same
order, for every organisation of the demo data and every combination of filters."""

from __future__ import annotations

import itertools
from datetime import timedelta

from app.core.piccolo_speed import through
from app.feedback import clock
from app.feedback.service import INBOX_LIMIT, InboxFilter, _item_columns, inbox
from app.feedback.tables import OPEN_STATUSES, FeedbackAccess, FeedbackItem, Status
from tenants.scope import tenant_scope, unscoped


async def _reference(filters: InboxFilter, user_id: int, tenant_id: int) -> list[int]:
    """The mailbox's query as it was composed per request before app/core/prepared.py."""
    item = through(FeedbackAccess, "item")
    now = clock.now()
    query = FeedbackAccess.select(*_item_columns())
    if filters.q:
        query = query.where(item.code == filters.q)
        rows = await query.order_by(item.received_at, ascending=False).limit(INBOX_LIMIT)
        return [r["id"] for r in rows]
    tenant = through(FeedbackAccess, "item.tenant")
    query = query.where(tenant != tenant_id if filters.where == "passed" else tenant == tenant_id)
    if filters.status == "open":
        query = query.where(item.status.is_in(list(OPEN_STATUSES)))
    elif filters.status != "all":
        query = query.where(item.status == filters.status)
    if filters.category:
        query = query.where(item.category == filters.category)
    if filters.age:
        query = query.where(item.received_at < now - timedelta(days=int(filters.age)))
    if filters.overdue:
        query = query.where(item.status.is_in(list(OPEN_STATUSES)) & (item.due_at < now))
    if filters.mine:
        query = query.where(through(FeedbackAccess, "item.assignee") == user_id)
    if filters.status in ("open", *OPEN_STATUSES) or filters.overdue:
        query = query.order_by(item.due_at).order_by(item.id)
    else:
        query = query.order_by(item.received_at, ascending=False)
    return [r["id"] for r in await query.limit(INBOX_LIMIT)]


async def test_every_filter_combination_lists_what_piccolo_lists():
    from app.directory.demo import seed_demo

    await seed_demo()
    with unscoped("test: which organisations hold or passed on feedback, and who is assigned"):
        holders = {r["tenant"] for r in await FeedbackAccess.select(FeedbackAccess.tenant)}
        assigned = await FeedbackItem.select(FeedbackItem.tenant, FeedbackItem.assignee, FeedbackItem.category,
                                             FeedbackItem.code).where(FeedbackItem.assignee.is_not_null())
    assert len(holders) >= 3 and assigned, "the demo data should hold feedback in several organisations"
    compared = 0
    seen = set()  # the filters that listed something: each should, for the comparison to mean much
    for tenant_id in sorted(holders):
        mine = next((a for a in assigned if a["tenant"] == tenant_id), assigned[0])
        statuses = ("open", "all", *(s.value for s in Status))
        with tenant_scope(tenant_id):
            for where, status, category, age, overdue, is_mine in itertools.product(
                    ("here", "passed"), statuses, ("", mine["category"]), ("", "3", "30"), (False, True),
                    (False, True)):
                filters = InboxFilter(status=status, category=category, age=age, overdue=overdue, mine=is_mine,
                                      where=where)
                got = [r["id"] for r in await inbox(filters, mine["assignee"])]
                assert got == await _reference(filters, mine["assignee"], tenant_id), filters
                compared += 1
                if got:
                    seen.update(name for name, on in (("passed", where == "passed"), ("category", category),
                                                      ("age", age), ("overdue", overdue), ("mine", is_mine),
                                                      (status, True)) if on)
            filters = InboxFilter(q=mine["code"])
            assert [r["id"] for r in await inbox(filters, 0)] == await _reference(filters, 0, tenant_id)
    assert compared > 500
    assert {"passed", "category", "age", "overdue", "mine", "open", "all", "new", "closed"} <= seen, seen
