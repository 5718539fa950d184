"""Training pages over HTTP: forms that keep what was typed, uploads with limits and served
only to those allowed, the overview and its exports, a district center's subtree."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from app.training import files
from app.training.tables import Material
from tenants.scope import unscoped
from tests.support import csrf_token, login
from tests.training.helpers import TODAY, assign, assignment_of, complete, make_programme, nominate

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def _post(client, url, data, files_=None):
    return await client.post(url, data={**data, "_csrf_token": csrf_token(client)}, files=files_,
                             follow_redirects=False)


async def test_programme_form_keeps_input_and_explains(world, client, clock):
    await login(client, world.users["city_staff"])
    resp = await _post(client, "/manage/city/training/programmes/new",
                       {"title": "调解员技能", "hours": "0", "audience": "调解员", "content": "内容"})
    assert resp.status_code == 422
    assert "Enter between 0.5 and 200 hours." in resp.text and 'value="调解员技能"' in resp.text
    resp = await _post(client, "/manage/city/training/programmes/new",
                       {"title": "调解员技能", "hours": "2", "audience": "", "content": ""})
    assert resp.status_code == 303
    page = await client.get(resp.headers["location"])
    assert "调解员技能" in page.text


async def test_unions_and_committees_have_no_programmes(world, client):
    await login(client, world.users["ent_a_admin"])
    assert (await client.get("/manage/ent-a/training/programmes/new")).status_code == 404
    assert (await client.get("/manage/ent-a/training")).status_code == 200


async def test_assign_form_refuses_the_past_zero_people_and_foreign_organisations(world, client, clock):
    programme = await make_programme(world.tenants["a"]["id"])
    await login(client, world.users["a_staff"])
    url = f"/manage/district-a/training/programmes/{programme}/assign"
    resp = await _post(client, url, {"kind": "", "tenants": str(world.tenants["ent_a"]["id"]),
                                     "due_date": (TODAY - timedelta(days=1)).isoformat(), "required_people": "0"})
    assert resp.status_code == 422
    assert "The due date must be after today." in resp.text and "At least one person must be trained." in resp.text
    resp = await _post(client, url, {"kind": "", "tenants": str(world.tenants["b"]["id"]),
                                     "due_date": (TODAY + timedelta(days=9)).isoformat(), "required_people": "2"})
    assert resp.status_code == 422 and "only assign training to organisations below yours" in resp.text
    resp = await _post(client, url, {"kind": "enterprise_committee",
                                     "due_date": (TODAY + timedelta(days=9)).isoformat(), "required_people": "2"})
    assert resp.status_code == 303
    assert await assignment_of(world.tenants["ent_a"]["id"], programme)


async def test_uploads_are_limited_and_served_only_to_those_allowed(world, client, clock):
    city, a, b = (world.tenants[k]["id"] for k in ("city", "a", "b"))
    programme = await make_programme(a)
    await login(client, world.users["a_staff"])
    url = f"/manage/district-a/training/programmes/{programme}/materials"
    exe = await _post(client, url, {"title": "x"}, {"file": ("manual.pdf", b"MZ\x90\x00binary", "application/pdf")})
    assert exe.status_code == 422 and "do not match its name" in exe.text
    wrong = await _post(client, url, {"title": "x"}, {"file": ("run.exe", b"MZ\x90\x00", "application/octet-stream")})
    assert wrong.status_code == 422 and "Upload a PDF" in wrong.text
    big = await _post(client, url, {"title": "x"},
                      {"file": ("big.pdf", PDF + b"0" * files.MAX_BYTES, "application/pdf")})
    assert big.status_code == 422 and "larger than 10 MB" in big.text
    ok = await _post(client, url, {"title": "讲义"}, {"file": ("讲义.pdf", PDF, "application/pdf")})
    assert ok.status_code == 303
    with unscoped("test reads materials"):
        material = await Material.select().where(Material.programme == programme).first()
    assert material["stored_name"] != "讲义.pdf" and material["stored_name"].endswith(".pdf")
    download = await client.get(f"/manage/district-a/training/materials/{material['id']}")
    assert download.status_code == 200 and download.content == PDF
    assert "attachment" in download.headers["content-disposition"]

    # Not assigned: ent-a cannot open it; once assigned, it can. District-b never.
    await login(client, world.users["ent_a_staff"])
    assert (await client.get(f"/manage/ent-a/training/materials/{material['id']}")).status_code == 404
    await assign(a, programme, targets=[world.tenants["ent_a"]["id"]])
    assert (await client.get(f"/manage/ent-a/training/materials/{material['id']}")).status_code == 200
    await login(client, world.users["b_admin"])
    assert (await client.get(f"/manage/district-b/training/materials/{material['id']}")).status_code == 404


async def test_overview_exports_and_who_may_open_an_assignment(world, client, clock):
    city, a, b, ent = (world.tenants[k]["id"] for k in ("city", "a", "b", "ent_a"))
    programme = await make_programme(city, title="调解员技能")
    await assign(city, programme, kind="district_center", required=1)
    top = await assignment_of(a, programme)
    await assign(a, programme, targets=[ent], required=1, parent={"id": top})
    child = await assignment_of(ent, programme)
    person = await nominate(ent, child, "王芳")
    await complete(ent, child, person)

    await login(client, world.users["city_staff"])
    page = await client.get("/manage/city/training/overview")
    assert page.status_code == 200
    assert "ent-a name" in page.text and "district-b name" in page.text
    assert page.text.count('class="t-status t-complete"') == 2  # ent-a and, rolled up, district-a
    csv_text = (await client.get("/manage/city/training/overview.csv")).content.decode("utf-8-sig")
    assert "ent-a name" in csv_text and "district-a name" in csv_text.splitlines()[2]
    book = load_workbook(io.BytesIO((await client.get("/manage/city/training/overview.xlsx")).content))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "Programme" and len(rows) == 4
    assert (await client.get(f"/manage/city/training/assignments/{child}")).status_code == 200  # read-only
    assert "Only its own staff can change it." in (await client.get(f"/manage/city/training/assignments/{child}")).text

    of_b = await assignment_of(b, programme)
    await login(client, world.users["a_admin"])
    own = (await client.get("/manage/district-a/training/overview")).text  # what district-a passed down
    own = own[own.index('id="rows-caption"'):own.index("</table>", own.index('id="rows-caption"'))]
    assert "ent-a name" in own and "district-b name" not in own and "district-a name" not in own
    assert (await client.get(f"/manage/district-a/training/assignments/{child}")).status_code == 200
    assert (await client.get(f"/manage/district-a/training/assignments/{of_b}")).status_code == 404
    # A district cannot record completion for its committee (read-only) nor for a sibling.
    resp = await _post(client, f"/manage/district-a/training/assignments/{child}/participants", {"name": "x"})
    assert resp.status_code == 404


async def test_district_subtree_shows_its_own_committees_and_what_they_lack(world, client):
    from tests.feedback.helpers import make_item

    await make_item(world.tenants["ent_a"]["id"])
    await login(client, world.users["a_staff"])
    page = await client.get("/manage/district-a/subtree")
    assert page.status_code == 200
    assert "ent-a name" in page.text and "district-b name" not in page.text
    assert "No published hotline" in page.text and 'href="/o/ent-a/"' in page.text
    assert "feedback/" not in page.text  # never a way into their mailbox
    await login(client, world.users["b_staff"])
    assert "ent-a name" not in (await client.get("/manage/district-b/subtree")).text


async def test_guidance_areas_put_my_districts_first(world, client, clock):
    from app.accounts.tables import User

    city = world.tenants["city"]["id"]
    programme = await make_programme(city)
    await assign(city, programme, kind="district_center")
    staff = await User.select(User.id).where(User.email == world.users["city_staff"]).first()
    await login(client, world.users["city_staff"])
    resp = await _post(client, "/city/training/areas", {"user": str(staff["id"]), "districts": "乙镇"})
    assert resp.status_code == 403  # only the city's admin sets areas
    await login(client, world.users["city_admin"])
    resp = await _post(client, "/city/training/areas", {"user": str(staff["id"]), "districts": "乙镇"})
    assert resp.status_code == 303
    await login(client, world.users["city_staff"])
    page = (await client.get("/manage/city/training/overview")).text
    assert page.index("(my district)") > page.index("乙镇") > 0
    table = page[page.index('id="district-caption"'):]
    assert table.index("乙镇") < table.index("甲镇")
    mine = (await client.get("/manage/city/training/overview?area=mine")).text
    assert "district-b name" in mine and "district-a name" not in mine


async def test_evidence_files_are_checked_and_read_only_by_the_assignee_and_those_above(world, client, clock):
    city, a, b, ent = (world.tenants[k]["id"] for k in ("city", "a", "b", "ent_a"))
    programme = await make_programme(city)
    await assign(city, programme, kind="district_center", required=1)
    top = await assignment_of(a, programme)
    await assign(a, programme, targets=[ent], required=1, parent={"id": top})
    child = await assignment_of(ent, programme)
    person = await nominate(ent, child, "王芳")
    await login(client, world.users["ent_a_staff"])
    url = f"/manage/ent-a/training/assignments/{child}/completions"
    data = {"participant": str(person), "hours": "2", "day": TODAY.isoformat(), "result": "passed", "note": "证书"}
    bad = await _post(client, url, data, {"evidence": ("certificate.exe", b"MZ\x90\x00", "application/octet-stream")})
    assert bad.status_code == 422 and "Upload a PDF" in bad.text
    assert 'value="证书"' in bad.text  # the note typed is kept
    ok = await _post(client, url, data, {"evidence": ("证书.pdf", PDF, "application/pdf")})
    assert ok.status_code == 303
    page = (await client.get(f"/manage/ent-a/training/assignments/{child}")).text
    import re

    link = re.search(r'href="/manage/ent-a/training/evidence/(\d+)"', page)
    completion = link.group(1)
    assert (await client.get(f"/manage/ent-a/training/evidence/{completion}")).content == PDF
    await login(client, world.users["a_staff"])  # the district above reads it
    assert (await client.get(f"/manage/district-a/training/evidence/{completion}")).content == PDF
    await login(client, world.users["b_staff"])  # a sibling district does not
    assert (await client.get(f"/manage/district-b/training/evidence/{completion}")).status_code == 404
