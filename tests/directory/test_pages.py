from __future__ import annotations

from app.audit.tables import AuditEntry
from tenants.scope import tenant_scope
from tenants.tables import Tenant
from tests.support import csrf_token, login


async def test_portal_lists_organisations_grouped_by_district(client, world):
    resp = await client.get("/", params={"all": "1"})
    assert resp.status_code == 200
    text = resp.text
    assert "district-a name" in text and "ent-a name" in text and "union-a name" in text
    results = text[text.index('id="results"'):]
    assert results.index("district-a name") < results.index("ent-a name")  # grouped under 甲镇
    assert "<h3>甲镇</h3>" in results and "<h3>乙镇</h3>" in results
    assert "Who should I contact?" in text


async def test_the_portal_asks_for_a_district_before_listing_everyone(client, world):
    text = (await client.get("/")).text
    results = text[text.index('id="results"'):]
    assert "ent-a name" not in results and "district-a name" not in results  # no list of everyone yet
    assert '<a href="/?district=%E7%94%B2%E9%95%87">甲镇 <span class="count">2</span></a>' in results
    assert '<a href="/?city=1">City level <span class="count">2</span></a>' in results
    assert '<a href="/?all=1">Show all 5 organisations</a>' in results
    # What people come for, one tap each, and only links that lead somewhere.
    needs = text[text.index('class="needs"'):text.index("</nav>", text.index('class="needs"'))]
    assert 'href="/hotlines"' in needs and 'href="#who"' in needs and 'href="/?kind=district_center"' in needs
    district = (await client.get("/", params={"district": "甲镇"})).text
    assert "district-a name" in district and "ent-a name" in district and "district-b name" not in district
    city = (await client.get("/", params={"city": "1"})).text
    listed = city[city.index('id="results"'):]
    assert "city name" in listed and "union-a name" in listed and "district-a name" not in listed


async def test_portal_filters_by_kind_district_and_words(client, world):
    resp = await client.get("/", params={"kind": "enterprise_committee"})
    assert "ent-a name" in resp.text and "district-b name" not in resp.text
    resp = await client.get("/", params={"district": "乙镇"})
    assert "district-b name" in resp.text and "district-a name" not in resp.text
    resp = await client.get("/", params={"q": "union-a"})
    assert "union-a name" in resp.text and "ent-a name" not in resp.text
    resp = await client.get("/", params={"q": "100%_"})
    assert resp.status_code == 200 and "No organisation matches." in resp.text


async def test_portal_answers_htmx_with_the_results_fragment(client, world):
    resp = await client.get("/", params={"q": "ent-a"}, headers={"HX-Request": "true"})
    assert resp.status_code == 200
    assert resp.text.lstrip().startswith('<div id="results"')
    assert "<html" not in resp.text and "ent-a name" in resp.text


async def test_inactive_organisations_are_hidden(client, world):
    await Tenant.update({Tenant.active: False}).where(Tenant.slug == "ent-a")
    assert "ent-a name" not in (await client.get("/")).text
    assert (await client.get("/o/ent-a/")).status_code == 404


async def test_public_page_shows_profile_and_reception_window(client, world):
    await Tenant.update(
        {Tenant.reception_window: "Room 101", Tenant.reception_contact: "王芳", Tenant.reception_phone: "0513-88881234",
         Tenant.office_hours: "Mon-Fri 9-17"}
    ).where(Tenant.slug == "district-a")
    resp = await client.get("/o/district-a/")
    assert resp.status_code == 200
    assert "Room 101" in resp.text and "王芳" in resp.text and "Mon-Fri 9-17" in resp.text
    assert 'href="tel:051388881234"' in resp.text
    assert "<title>district-a name" in resp.text


async def test_pages_default_to_simplified_chinese_and_switch_to_english(client, world):
    del client.headers["Accept-Language"]
    resp = await client.get("/")
    assert '<html lang="zh-CN">' in resp.text
    assert "谁" in resp.text or "调解" in resp.text  # translated, not the English msgid
    assert "Who should I contact?" not in resp.text
    switched = await client.get("/lang/en", params={"next": "/o/district-a/"}, follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/o/district-a/"
    resp = await client.get("/")
    assert '<html lang="en">' in resp.text and "Who should I contact?" in resp.text
    evil = await client.get("/lang/en", params={"next": "https://evil.example/"}, follow_redirects=False)
    assert evil.headers["location"] == "/"


async def test_admin_edits_profile_with_validation_and_audit(client, world):
    await login(client, world.users["a_admin"])
    bad = await client.post(
        "/manage/district-a/settings",
        data={"address": "新地址 8 号", "reception_phone": "12345abc", "_csrf_token": csrf_token(client)},
    )
    assert bad.status_code == 422
    assert 'id="f-reception_phone-error"' in bad.text
    assert 'value="新地址 8 号"' in bad.text and 'value="12345abc"' in bad.text
    ok = await client.post(
        "/manage/district-a/settings",
        data={"address": "新地址 8 号", "reception_phone": "0513 8888 1234", "_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert (await Tenant.select(Tenant.reception_phone).where(Tenant.slug == "district-a").first())[
        "reception_phone"
    ] == "0513-88881234"
    with tenant_scope(world.tenants["a"]["id"]):
        entry = await AuditEntry.objects().where(AuditEntry.action == "tenant.profile_updated").first()
    assert entry is not None and entry.detail and "address" in entry.detail
    audit = await client.get("/manage/district-a/audit")
    assert "a_admin changed the public profile: Address, Reception phone." in audit.text
    assert "tenant.profile_updated" not in audit.text  # staff read sentences, not codes


async def test_a_page_without_contact_details_says_whom_to_ask(client, world):
    from app.outreach.tables import Hotline
    from tenants.scope import tenant_scope

    a = world.tenants["a"]["id"]
    with tenant_scope(a):
        await Hotline(tenant=a, label="调解热线", number="0513-88881234").save()
    await Tenant.update({Tenant.address: ""}).where(Tenant.slug == "ent-a")
    page = (await client.get("/o/ent-a/")).text
    notice = page[page.index('class="notice ask-parent"'):]
    notice = notice[:notice.index("</p>")]
    assert "has not published all its contact details yet" in notice
    assert 'href="/o/district-a/"' in notice and 'href="tel:051388881234">0513-8888 1234<' in notice
    urgent = page[page.index('class="urgent"'):]
    assert urgent.index("Urgent? Call district-a name") < urgent.index("tel:051388881234") < urgent.index("</p>")
    # With its own address and number, no notice.
    await Tenant.update({Tenant.address: "甲镇 1 号", Tenant.reception_phone: "13812345678"}).where(Tenant.slug == "ent-a")
    from app.core.pagecache import bump

    await bump()  # as every change through the app does
    assert "ask-parent" not in (await client.get("/o/ent-a/")).text


async def test_staff_dashboard_says_who_can_change_the_profile(client, world):
    from tests.support import login

    await login(client, world.users["a_staff"])
    page = (await client.get("/manage/district-a/")).text
    assert "Only an administrator can change the public profile: ask a_admin." in page
    from tenants.scope import tenant_scope
    from tenants.tables import Membership

    with tenant_scope(world.tenants["a"]["id"]):
        await Membership.delete().where(Membership.role == "admin")
    page = (await client.get("/manage/district-a/")).text
    assert "This organisation has no administrator yet" in page and "Ask the city center to appoint one." in page
