"""Ask before destroying (app.core.confirm) and undo a removal (app.undo), on every
destructive action of the staff console: hotlines, cards, outreach entries, members."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from app.outreach.tables import Hotline, InfoCard, OutreachEntry
from app.undo.tables import RemovedRow
from tenants.scope import tenant_scope, unscoped
from tenants.tables import Membership
from tests.support import csrf_token, login

HTMX = {"HX-Request": "true"}


async def _hotline(tenant_id: int, label: str = "调解热线", number: str = "0513-88881234") -> int:
    with tenant_scope(tenant_id):
        row = Hotline(tenant=tenant_id, label=label, number=number, position=10)
        await row.save()
        return row.id


async def _count(table, tenant_id: int) -> int:
    with tenant_scope(tenant_id):
        return await table.count()


async def test_a_delete_without_confirmation_asks_and_changes_nothing(client, world):
    a = world.tenants["a"]["id"]
    hid = await _hotline(a)
    await login(client, world.users["a_staff"])
    url = f"/manage/district-a/hotlines/{hid}/delete"
    page = await client.post(url, data={"_csrf_token": csrf_token(client)})
    assert page.status_code == 200
    html = page.text
    assert "<html" in html and "Please confirm" in html  # a whole page: works without JavaScript
    assert "Remove the hotline “调解热线 · 0513-8888 1234”?" in html
    assert "It disappears from your public page" in html
    assert f'action="{url}"' in html and 'name="confirmed" value="yes"' in html
    assert 'href="/manage/district-a/hotlines"' in html  # Cancel
    # htmx gets only the question, to put in place of the button.
    fragment = await client.post(url, data={"_csrf_token": csrf_token(client)}, headers=HTMX)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div class="confirm-box"') and "<html" not in fragment.text
    assert 'autofocus' in fragment.text
    assert await _count(Hotline, a) == 1
    # Anything but the confirmation field's exact value is asked again.
    again = await client.post(url, data={"_csrf_token": csrf_token(client), "confirmed": "1"})
    assert again.status_code == 200 and await _count(Hotline, a) == 1


async def test_a_removed_hotline_comes_back_with_undo(client, world):
    a = world.tenants["a"]["id"]
    hid = await _hotline(a)
    await login(client, world.users["a_staff"])
    done = await client.post(f"/manage/district-a/hotlines/{hid}/delete",
                             data={"_csrf_token": csrf_token(client), "confirmed": "yes"}, follow_redirects=False)
    assert done.status_code == 303
    assert await _count(Hotline, a) == 0
    listing = await client.get("/manage/district-a/hotlines")
    with tenant_scope(a):
        removed = await RemovedRow.select().first()
    undo_url = f"/manage/district-a/hotlines/restore/{removed['id']}"
    assert "Hotline “调解热线” was removed." in listing.text
    assert f'action="{undo_url}"' in listing.text and ">Undo<" in listing.text
    assert "Recently removed hotlines" in listing.text  # and for 7 days from the list
    public = (await client.get("/o/district-a/")).text
    assert "调解热线" not in public[public.index("<article"):]  # off the public page at once
    back = await client.post(undo_url, data={"_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert back.status_code == 303
    with tenant_scope(a):
        rows = await Hotline.select(Hotline.id, Hotline.label, Hotline.number)
        assert await RemovedRow.count() == 0
    assert rows == [{"id": hid, "label": "调解热线", "number": "0513-88881234"}]  # its old id, too
    assert "Hotline “调解热线” is back." in (await client.get("/manage/district-a/hotlines")).text
    public = (await client.get("/o/district-a/")).text
    assert "调解热线" in public[public.index("<article"):]
    # Twice is not found: it was restored already.
    assert (await client.post(undo_url, data={"_csrf_token": csrf_token(client)})).status_code == 404


async def test_restoring_a_hotline_whose_number_is_listed_again_is_refused(client, world):
    a = world.tenants["a"]["id"]
    hid = await _hotline(a)
    await login(client, world.users["a_staff"])
    await client.post(f"/manage/district-a/hotlines/{hid}/delete",
                      data={"_csrf_token": csrf_token(client), "confirmed": "yes"})
    await _hotline(a, "新热线", "0513 8888 1234")
    with tenant_scope(a):
        removed_id = (await RemovedRow.select(RemovedRow.id).first())["id"]
    resp = await client.post(f"/manage/district-a/hotlines/restore/{removed_id}", data={"_csrf_token": csrf_token(client)})
    assert "The hotline could not be restored: Its number is listed again, as “新热线”." in resp.text
    assert await _count(Hotline, a) == 1


async def test_undo_is_only_for_its_own_tenant_and_its_own_kind(client, world):
    """A staff member cannot restore another tenant's removal, nor a removed member
    through the hotline route (that would give someone their access back)."""
    a, b = world.tenants["a"]["id"], world.tenants["b"]["id"]
    hid_b = await _hotline(b)
    await login(client, world.users["b_staff"])
    await client.post(f"/manage/district-b/hotlines/{hid_b}/delete",
                      data={"_csrf_token": csrf_token(client), "confirmed": "yes"})
    await client.post("/logout", data={"_csrf_token": csrf_token(client)})
    with tenant_scope(b):
        foreign = (await RemovedRow.select(RemovedRow.id).first())["id"]
    await login(client, world.users["a_admin"])
    assert (await client.post(f"/manage/district-a/hotlines/restore/{foreign}",
                              data={"_csrf_token": csrf_token(client)})).status_code == 404
    with tenant_scope(a):
        staff_id = (await Membership.select(Membership.id).where(Membership.role == "staff").first())["id"]
    await client.post(f"/manage/district-a/members/{staff_id}/remove",
                      data={"_csrf_token": csrf_token(client), "confirmed": "yes"})
    with tenant_scope(a):
        removal = (await RemovedRow.select(RemovedRow.id).where(RemovedRow.table_name == "membership").first())["id"]
    for route in ("hotlines", "outreach"):
        resp = await client.post(f"/manage/district-a/{route}/restore/{removal}", data={"_csrf_token": csrf_token(client)})
        assert resp.status_code == 404, route
    assert await _count(Membership, a) == 1
    with unscoped("test"):
        assert await RemovedRow.count() == 2


async def test_a_removed_member_can_be_restored_unless_added_again(client, world):
    a = world.tenants["a"]["id"]
    await login(client, world.users["a_admin"])
    with tenant_scope(a):
        staff = await Membership.select(Membership.id, Membership.user).where(Membership.role == "staff").first()
    asked = await client.post(f"/manage/district-a/members/{staff['id']}/remove", data={"_csrf_token": csrf_token(client)})
    assert "Remove a_staff (a_staff@test.tiaojie.cn) from district-a name?" in asked.text
    assert "their account stays" in asked.text
    done = await client.post(f"/manage/district-a/members/{staff['id']}/remove",
                             data={"_csrf_token": csrf_token(client), "confirmed": "yes"}, follow_redirects=False)
    assert done.status_code == 303
    page = await client.get("/manage/district-a/members")
    assert "a_staff was removed from this organisation." in page.text and ">Undo<" in page.text
    with tenant_scope(a):
        removed_id = (await RemovedRow.select(RemovedRow.id).first())["id"]
    back = await client.post(f"/manage/district-a/members/restore/{removed_id}", data={"_csrf_token": csrf_token(client)},
                             follow_redirects=False)
    assert back.status_code == 303
    with tenant_scope(a):
        assert await Membership.exists().where((Membership.user == staff["user"]) & (Membership.role == "staff"))
    # Removed again, then added again by hand: the old removal cannot be restored over it.
    with tenant_scope(a):
        member_id = (await Membership.select(Membership.id).where(Membership.user == staff["user"]).first())["id"]
    await client.post(f"/manage/district-a/members/{member_id}/remove",
                      data={"_csrf_token": csrf_token(client), "confirmed": "yes"})
    with tenant_scope(a):
        removed_id = (await RemovedRow.select(RemovedRow.id).first())["id"]
        await Membership(user=staff["user"], tenant=a, role="admin").save()
    resp = await client.post(f"/manage/district-a/members/restore/{removed_id}", data={"_csrf_token": csrf_token(client)})
    assert "a_staff is a member again already." in resp.text


async def test_outreach_entries_and_cards_are_asked_about_and_come_back(client, world):
    a = world.tenants["a"]["id"]
    with tenant_scope(a):
        entry = OutreachEntry(tenant=a, day=date(2026, 3, 5), kind="visit", quantity=7)
        await entry.save()
        card = InfoCard(tenant=a, code="ABCD2345", title="欠薪找我们", published=True)
        await card.save()
    await login(client, world.users["a_staff"])
    asked = await client.post(f"/manage/district-a/outreach/{entry.id}/delete", data={"_csrf_token": csrf_token(client)})
    assert "Remove the entry “2026-03-05 · Visits · 7”?" in asked.text
    await client.post(f"/manage/district-a/outreach/{entry.id}/delete",
                      data={"_csrf_token": csrf_token(client), "confirmed": "yes"})
    assert await _count(OutreachEntry, a) == 0
    with tenant_scope(a):
        removed_id = (await RemovedRow.select(RemovedRow.id).first())["id"]
    await client.post(f"/manage/district-a/outreach/restore/{removed_id}", data={"_csrf_token": csrf_token(client)})
    with tenant_scope(a):
        rows = await OutreachEntry.select(OutreachEntry.day, OutreachEntry.kind, OutreachEntry.quantity)
    assert rows == [{"day": date(2026, 3, 5), "kind": "visit", "quantity": 7}]

    asked = await client.post(f"/manage/district-a/cards/{card.id}/delete", data={"_csrf_token": csrf_token(client)})
    assert "Delete the card “欠薪找我们”?" in asked.text
    assert "Copies already handed out keep working: their QR code leads to your organisation" in asked.text
    await client.post(f"/manage/district-a/cards/{card.id}/delete",
                      data={"_csrf_token": csrf_token(client), "confirmed": "yes"}, follow_redirects=False)
    page = await client.get("/manage/district-a/cards")
    assert f'action="/manage/district-a/cards/{card.id}/restore"' in page.text and ">Undo<" in page.text


async def test_a_removal_older_than_the_window_is_not_restored(client, world):
    a = world.tenants["a"]["id"]
    hid = await _hotline(a)
    await login(client, world.users["a_staff"])
    await client.post(f"/manage/district-a/hotlines/{hid}/delete",
                      data={"_csrf_token": csrf_token(client), "confirmed": "yes"})
    with tenant_scope(a):
        await RemovedRow.update({RemovedRow.removed_at: datetime.now(timezone.utc) - timedelta(days=8)})
        removed_id = (await RemovedRow.select(RemovedRow.id).first())["id"]
    assert "Recently removed hotlines" not in (await client.get("/manage/district-a/hotlines")).text
    resp = await client.post(f"/manage/district-a/hotlines/restore/{removed_id}", data={"_csrf_token": csrf_token(client)})
    assert "This was removed too long ago to be restored." in resp.text
    assert await _count(Hotline, a) == 0
