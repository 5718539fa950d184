"""The outreach log, the tenant's monthly figures and the city's view by district."""

from __future__ import annotations

import re
from datetime import date, timedelta

from app.outreach import service
from app.outreach.counters import count_hit, drain_views, flush_counts, today
from app.outreach.tables import DailyCount, OutreachEntry
from tenants.scope import tenant_scope, unscoped
from tests.support import csrf_token, login


def _entry(client, **values):
    return {"day": today().isoformat(), "kind": "materials", "count": "200", "notes": "街道发放折页",
            "_csrf_token": csrf_token(client), **values}


def _row(html: str, month: str) -> list[str]:
    row = re.search(rf'<tr><th scope="row" class="nowrap">{month}</th>(.*?)</tr>', html).group(1)
    return re.findall(r"<td>(\d+)</td>", row)


async def test_staff_records_outreach_and_sees_it_by_month(client, world):
    await login(client, world.users["a_staff"])
    resp = await client.post("/manage/district-a/outreach", data=_entry(client), follow_redirects=False)
    assert resp.status_code == 303
    await client.post("/manage/district-a/outreach", data=_entry(client, kind="visit", count="3", notes="走访企业"))
    with tenant_scope(world.tenants["a"]["id"]):
        rows = await OutreachEntry.select(OutreachEntry.kind, OutreachEntry.quantity, OutreachEntry.created_by.email)
    assert sorted((r["kind"], r["quantity"]) for r in rows) == [("materials", 200), ("visit", 3)]
    assert {r["created_by.email"] for r in rows} == {world.users["a_staff"]}
    page = await client.get("/manage/district-a/outreach")
    assert page.status_code == 200
    month = today().isoformat()[:7]
    columns = [key for key, _label in service.figure_columns()]
    figures = dict(zip(columns, map(int, _row(page.text, month))))
    assert figures["materials"] == 200 and figures["visit"] == 3 and figures["page_view"] == 0
    assert "街道发放折页" in page.text and '<svg viewBox="0 0 320 150"' in page.text
    assert "style=" not in page.text


async def test_bad_outreach_input_is_refused_keeping_values(client, world):
    await login(client, world.users["a_staff"])
    tomorrow = (today() + timedelta(days=1)).isoformat()
    cases = [({"kind": "bribes"}, "kind"), ({"count": "-1"}, "count"), ({"count": "lots"}, "count"),
             ({"day": tomorrow}, "day"), ({"day": "16/05/2024"}, "day"), ({"day": ""}, "day"), ({"notes": "x" * 501}, "notes")]
    for values, field in cases:
        resp = await client.post("/manage/district-a/outreach", data=_entry(client, **values))
        assert resp.status_code == 422, values
        assert f'id="f-{field}-error"' in resp.text, values
        assert "街道发放折页" in resp.text or field == "notes"
    with unscoped("test"):
        assert await OutreachEntry.count() == 0


async def test_entries_of_another_tenant_cannot_be_removed(client, world):
    b = world.tenants["b"]["id"]
    with tenant_scope(b):
        entry = OutreachEntry(tenant=b, day=today(), kind="visit", quantity=2)
        await entry.save()
    await login(client, world.users["a_admin"])
    resp = await client.post(f"/manage/district-a/outreach/{entry.id}/delete", data={"_csrf_token": csrf_token(client)})
    assert resp.status_code == 404
    await client.post("/logout", data={"_csrf_token": csrf_token(client)})
    await login(client, world.users["b_staff"])
    resp = await client.post(f"/manage/district-b/outreach/{entry.id}/delete",
                             data={"_csrf_token": csrf_token(client), "confirmed": "yes"}, follow_redirects=False)
    assert resp.status_code == 303
    with unscoped("test"):
        assert await OutreachEntry.count() == 0


async def test_outreach_pages_are_for_staff_of_the_tenant_and_the_city(client, world):
    for who, page, status in (("b_staff", "/manage/district-a/outreach", 404), ("ent_a_admin", "/manage/district-a/outreach", 404),
                              ("a_staff", "/city/outreach", 404), ("union_rep", "/manage/union-a/outreach", 403),
                              ("city_staff", "/city/outreach", 200)):
        await login(client, world.users[who])
        assert (await client.get(page)).status_code == status, (who, page)
        await client.post("/logout", data={"_csrf_token": csrf_token(client)})


async def test_monthly_figures_put_counts_in_their_month():
    months = service.last_months(3, until=date(2024, 1, 20))
    assert months == ["2023-11", "2023-12", "2024-01"]
    assert service.month_bounds("2023-11", "2024-01") == (date(2023, 11, 1), date(2024, 2, 1))
    assert service.last_months(12, until=date(2024, 12, 31))[0] == "2024-01"


async def test_chart_geometry_scales_bars_to_the_peak():
    figures = [{"month": "2024-01", "page_view": 0}, {"month": "2024-02", "page_view": 50}, {"month": "2024-03", "page_view": 100}]
    chart = service.chart(figures, "page_view", "Page views")
    heights = [b["h"] for b in chart["bars"]]
    assert heights[0] == 0 and heights[2] == chart["base"] - 18 and abs(heights[1] - heights[2] / 2) < 0.2
    assert chart["total"] == 150 and [b["label"] for b in chart["bars"]] == ["01", "02", "03"]
    empty = service.chart([{"month": "2024-01", "page_view": 0}], "page_view", "x")
    assert empty["bars"][0]["h"] == 0


async def test_city_sees_every_tenants_figures_by_district(client, world):
    a, b, ent = world.tenants["a"]["id"], world.tenants["b"]["id"], world.tenants["ent_a"]["id"]
    for tenant_id, qty in ((a, 100), (ent, 40), (b, 7)):
        with tenant_scope(tenant_id):
            await OutreachEntry(tenant=tenant_id, day=today(), kind="materials", quantity=qty).save()
    await count_hit(a, "page_view")
    await count_hit(b, "qr_scan", 1)
    await flush_counts()
    await login(client, world.users["city_staff"])
    page = (await client.get("/city/outreach")).text
    columns = [key for key, _label in service.figure_columns()]

    def row(label: str) -> dict[str, int]:
        cells = re.search(rf"<tr(?: class=\"subtotal\")?><th scope=\"row\">(?:<a[^>]*>)?{re.escape(label)}(?:</a>)?</th>(.*?)</tr>", page).group(1)
        return dict(zip(columns, map(int, re.findall(r"<td>(\d+)</td>", cells))))

    assert row("district-a name")["materials"] == 100 and row("district-a name")["page_view"] == 1
    assert row("ent-a name")["materials"] == 40
    assert row("Subtotal 甲镇")["materials"] == 140
    assert row("Subtotal 乙镇") == {**dict.fromkeys(columns, 0), "materials": 7, "qr_scan": 1}
    total = re.search(r'<tr class="total"><th scope="row">Whole city</th>(.*?)</tr>', page).group(1)
    assert dict(zip(columns, map(int, re.findall(r"<td>(\d+)</td>", total))))["materials"] == 147
    # One month only.
    old = (today().replace(day=1) - timedelta(days=1)).isoformat()[:7]
    month_page = (await client.get("/city/outreach", params={"month": old})).text
    assert f'<option value="{old}" selected>' in month_page
    assert "<td>100</td>" not in month_page


async def test_a_district_publishes_prints_and_sees_scans_after_the_flush(client, world):
    """The issue's "done when": hotline, card, print, scan, flush, outreach page."""
    await login(client, world.users["a_staff"])
    await client.post("/manage/district-a/hotlines", data={"label": "调解热线", "number": "0513-88881234",
                                                           "_csrf_token": csrf_token(client)})
    await client.post("/manage/district-a/cards/new", data={"title": "欠薪找我们", "published": "1",
                                                            "_csrf_token": csrf_token(client)})
    with tenant_scope(world.tenants["a"]["id"]):
        card = (await service.cards())[0]
    public = (await client.get("/o/district-a/")).text
    assert 'href="tel:051388881234"' in public and "欠薪找我们" in public
    printed = await client.get(f"/o/district-a/cards/{card['id']}")
    assert printed.status_code == 200 and f"/q/{card['code']}" in printed.text
    for _ in range(3):
        await client.get(f"/q/{card['code']}", follow_redirects=False)
    month = today().isoformat()[:7]
    before = _row((await client.get("/manage/district-a/outreach")).text, month)
    assert int(before[1]) == 0  # not flushed yet
    await drain_views()  # the web process writes its buffered views
    await flush_counts()
    after = _row((await client.get("/manage/district-a/outreach")).text, month)
    assert int(after[1]) == 3 and int(after[0]) >= 2  # 3 scans; page views of the public and card pages
    with unscoped("test"):
        assert await DailyCount.exists().where(DailyCount.ref == card["id"])
    assert "<strong>3</strong> QR scans" in (await client.get("/manage/district-a/cards")).text
