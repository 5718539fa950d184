"""The register: import from CSV/XLSX with a line-by-line report and a preview, nothing
half-saved, update by credit code, export in the same format, templates, limits."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import openpyxl

from app.registry import sheets
from app.registry.creditcode import complete
from app.registry.tables import Chamber, Enterprise, RegistryUpload
from tenants.scope import tenant_scope, unscoped
from tests.support import World, csrf_token, login

HEADER_ZH = ["区镇/街道", "企业名称", "统一社会信用代码", "职工人数", "劳动密集型", "已建劳动争议调解委员会", "平台上的调解委员会"]
HEADER_EN = ["District / town / street", "Enterprise name", "Unified social credit code", "Employees",
             "Labour-intensive", "Has a mediation committee", "Committee on the platform"]


def code(n: int) -> str:
    return complete(f"91320621MA{n:07d}")


def csv_bytes(rows, header=HEADER_ZH, encoding="utf-8") -> bytes:
    text = "\r\n".join(",".join(str(v) for v in row) for row in [header, *rows]) + "\r\n"
    return text.encode(encoding)


def xlsx_bytes(rows, header=HEADER_ZH) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD = [
    ["甲镇", "甲镇纺织有限公司", code(1), 350, "是", "是", "ent-a"],
    ["甲镇", "甲镇机械有限公司", code(2), 120, "是", "否", ""],
    ["乙镇", "乙镇电子有限公司", code(3), 80, "否", "否", ""],
]


async def upload(client, content: bytes, filename="register.csv", register="enterprises"):
    return await client.post(
        f"/city/registry/{register}/import",
        data={"_csrf_token": csrf_token(client)},
        files={"file": (filename, content, "application/octet-stream")},
        follow_redirects=False,
    )


async def confirm(client, location: str):
    return await client.post(location, data={"_csrf_token": csrf_token(client)}, follow_redirects=False)


async def enterprises(world: World) -> dict[str, dict]:
    with tenant_scope(world.tenants["city"]["id"]):
        return {r["credit_code"]: r for r in await Enterprise.select()}


async def test_csv_upload_previews_then_saves_on_confirm(client, world):
    await login(client, world.users["city_admin"])
    resp = await upload(client, csv_bytes(GOOD))
    assert resp.status_code == 303
    location = resp.headers["location"]
    assert re.fullmatch(r"/city/registry/enterprises/import/[\w-]+", location)
    assert await enterprises(world) == {}  # the preview saves nothing
    preview = await client.get(location)
    assert preview.status_code == 200
    assert "甲镇纺织有限公司" in preview.text and "ent-a name" in preview.text
    assert "Save 3 new and 0 updated rows" in preview.text
    done = await confirm(client, location)
    assert done.status_code == 303 and done.headers["location"] == "/city/registry/enterprises"
    rows = await enterprises(world)
    assert set(rows) == {code(1), code(2), code(3)}
    first = rows[code(1)]
    assert (first["district"], first["name"], first["employees"], first["labour_intensive"], first["has_committee"]) == (
        "甲镇", "甲镇纺织有限公司", 350, True, True)
    assert first["committee"] == world.tenants["ent_a"]["id"]
    assert rows[code(2)]["committee"] is None and rows[code(3)]["labour_intensive"] is False
    listing = await client.get("/city/registry/enterprises")
    assert "Imported: 3 new, 0 updated, 0 unchanged." in listing.text and "甲镇机械有限公司" in listing.text
    # The upload is gone once used: confirming twice does nothing more.
    assert (await confirm(client, location)).status_code == 404


async def test_encodings_and_xlsx_and_english_headers_read_the_same(client, world):
    await login(client, world.users["city_admin"])
    for content, name in (
        (b"\xef\xbb\xbf" + csv_bytes(GOOD), "bom.csv"),
        (csv_bytes(GOOD, encoding="gb18030"), "excel.csv"),
        (csv_bytes(GOOD, header=HEADER_EN), "english.csv"),
        (xlsx_bytes(GOOD), "book.xlsx"),
        (xlsx_bytes(GOOD, header=HEADER_EN), "名册.xlsx"),
    ):
        resp = await upload(client, content, name)
        assert resp.status_code == 303, (name, resp.text[:2000])
        preview = await client.get(resp.headers["location"])
        assert "甲镇纺织有限公司" in preview.text and "乙镇电子有限公司" in preview.text, name
        assert "Save 3 new and 0 updated rows" in preview.text, name


async def test_bad_rows_are_reported_line_by_line_and_nothing_is_saved(client, world):
    await login(client, world.users["city_admin"])
    bad_code = code(5)[:-1] + ("0" if code(5)[-1] != "0" else "1")
    rows = [
        GOOD[0],
        ["甲镇", "", code(4), 200, "是", "否", ""],  # line 3: no name
        ["甲镇", "甲镇电器有限公司", bad_code, 200, "是", "否", ""],  # line 4: check digit
        ["乙镇", "乙镇食品有限公司", code(6), "很多", "是", "否", ""],  # line 5: employees
        ["乙镇", "乙镇物流有限公司", code(7), 150, "也许", "否", ""],  # line 6: yes/no
        ["乙镇", "乙镇建材有限公司", code(1), 150, "是", "否", ""],  # line 7: same code as line 2
        ["乙镇", "乙镇服装有限公司", code(8), 150, "是", "是", "ent-a"],  # line 8: committee in 甲镇; same org as line 2
        ["乙镇", "乙镇新材料有限公司", code(9), 150, "是", "是", "no-such-org"],  # line 9: unknown org
        ["甲镇", "甲镇包装有限公司", code(10), 150, "是", "否", "ent-a name"],  # line 10: linked but 否
    ]
    resp = await upload(client, csv_bytes(rows))
    assert resp.status_code == 303
    preview = await client.get(resp.headers["location"])
    text = preview.text
    assert "problems to fix before anything can be saved" in text
    reported = re.findall(r'data-label="Line">(\d+)</td>', text)
    assert reported.count("8") >= 2
    assert set(reported) == {"3", "4", "5", "6", "7", "8", "9", "10"}
    assert "The check character does not match" in text
    assert "Enter a whole number of people" in text
    assert "Write 是 or 否" in text
    assert "The same code is on line 2" in text
    assert "is in 甲镇, not in the district of this row" in text
    assert "There is no enterprise mediation committee with this name or web address" in text
    assert "so write 是 here" in text
    assert "Save " not in text  # no confirm button
    # Confirming anyway is refused and saves nothing.
    refused = await confirm(client, resp.headers["location"])
    assert refused.status_code == 422
    assert await enterprises(world) == {}


async def test_reimport_updates_by_credit_code_and_moves_a_committee(client, world):
    await login(client, world.users["city_admin"])
    await confirm(client, (await upload(client, csv_bytes(GOOD))).headers["location"])
    changed = [
        ["甲镇", "甲镇纺织有限公司", code(1), 360, "是", "否", ""],  # lets the committee go, fewer... more staff
        ["甲镇", "甲镇机械有限公司", code(2), 120, "是", "是", "ent-a"],  # takes it
        GOOD[2],
        ["乙镇", "乙镇食品有限公司", code(11), 500, "是", "否", ""],
    ]
    resp = await upload(client, xlsx_bytes(changed), "update.xlsx")
    preview = await client.get(resp.headers["location"])
    assert "Save 1 new and 2 updated rows" in preview.text
    assert "350 → <strong>360</strong>" in preview.text
    assert (await confirm(client, resp.headers["location"])).status_code == 303
    rows = await enterprises(world)
    assert len(rows) == 4
    assert rows[code(1)]["committee"] is None and rows[code(1)]["employees"] == 360
    assert rows[code(2)]["committee"] == world.tenants["ent_a"]["id"] and rows[code(2)]["has_committee"]


async def test_a_committee_already_standing_for_another_enterprise_is_refused(client, world):
    await login(client, world.users["city_admin"])
    await confirm(client, (await upload(client, csv_bytes(GOOD))).headers["location"])
    resp = await upload(client, csv_bytes([["甲镇", "甲镇包装有限公司", code(12), 150, "是", "是", "ent-a"]]))
    preview = await client.get(resp.headers["location"])
    assert "already stands for 甲镇纺织有限公司" in preview.text
    assert (await confirm(client, resp.headers["location"])).status_code == 422
    assert code(12) not in await enterprises(world)


async def test_whole_file_problems_are_shown_beside_the_field(client, world):
    await login(client, world.users["city_admin"])
    cases = [
        (b"", "Choose the file to import."),
        (csv_bytes(GOOD, header=["名称", "代码"]), "these are missing"),
        (csv_bytes([]), "no rows under its header"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "old Excel file"),
        (b"PK\x03\x04broken", "cannot be read as a table"),
        (b"\xff" * 10 + b"\x81\x30", "cannot be read"),
    ]
    for content, message in cases:
        resp = await upload(client, content, "x.csv" if content else "")
        assert resp.status_code == 422, message
        assert 'id="f-file-error"' in resp.text and message in resp.text, (message, resp.text[:3000])


async def test_size_and_row_limits(client, world, monkeypatch):
    await login(client, world.users["city_admin"])
    too_big = csv_bytes(GOOD) + b"," * (sheets.MAX_BYTES + 10)
    resp = await upload(client, too_big)
    assert resp.status_code == 422 and "larger than 5 MB" in resp.text and 'id="f-file-error"' in resp.text
    monkeypatch.setattr(sheets, "MAX_ROWS", 5)
    many = [["甲镇", f"公司{i}", code(100 + i), 100, "是", "否", ""] for i in range(6)]
    resp = await upload(client, csv_bytes(many))
    assert resp.status_code == 422 and "more than 5 rows" in resp.text
    monkeypatch.setattr(sheets, "MAX_BYTES", 200)
    resp = await upload(client, csv_bytes(GOOD * 3))
    assert resp.status_code == 422 and "larger than" in resp.text


async def test_an_upload_belongs_to_its_person_and_expires(client, world):
    from app.accounts.service import add_membership, create_user

    await login(client, world.users["city_admin"])
    location = (await upload(client, csv_bytes(GOOD))).headers["location"]
    other = await create_user("second.admin@test.tiaojie.cn", World.PASSWORD, "second")
    await add_membership(other, world.tenants["city"]["id"], "admin")
    client.cookies.clear()
    await login(client, "second.admin@test.tiaojie.cn")
    assert (await client.get(location)).status_code == 404
    assert (await confirm(client, location)).status_code == 404
    client.cookies.clear()
    await login(client, world.users["city_admin"])
    with unscoped("test: let the upload expire"):
        await RegistryUpload.update({RegistryUpload.expires_at: datetime.now(timezone.utc) - timedelta(seconds=1)}).where(
            RegistryUpload.id > 0)
    assert (await client.get(location)).status_code == 404
    assert await enterprises(world) == {}


async def test_export_reads_back_unchanged_and_templates_have_the_columns(client, world):
    await login(client, world.users["city_admin"])
    await confirm(client, (await upload(client, csv_bytes(GOOD))).headers["location"])
    for fmt in ("xlsx", "csv"):
        exported = await client.get(f"/city/registry/enterprises/export?format={fmt}")
        assert exported.status_code == 200
        assert "attachment" in exported.headers["content-disposition"]
        resp = await upload(client, exported.content, f"export.{fmt}")
        assert resp.status_code == 303, resp.text[:2000]
        preview = await client.get(resp.headers["location"])
        assert "Save 0 new and 0 updated rows" in preview.text, fmt
    book = openpyxl.load_workbook(io.BytesIO((await client.get("/city/registry/enterprises/export")).content))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == HEADER_EN
    assert sheet.cell(row=2, column=3).number_format == "@"  # the code stays text in Excel
    client.headers["Accept-Language"] = "zh-CN"
    template = await client.get("/city/registry/chambers/template?format=xlsx")
    book = openpyxl.load_workbook(io.BytesIO(template.content))
    assert [c.value for c in book.worksheets[0][1]] == ["区镇/街道", "商(协)会名称", "统一社会信用代码",
                                                         "工商联所属", "已建调解组织", "平台上的调解组织"]
    assert book.worksheets[0].max_row == 1 and len(book.worksheets) == 2  # header only, and instructions
    assert book.worksheets[0].column_dimensions["C"].number_format == "@"  # codes typed in later stay text
    csv_template = await client.get("/city/registry/enterprises/template?format=csv")
    assert csv_template.content.startswith(b"\xef\xbb\xbf") and csv_template.content.decode("utf-8-sig").startswith(
        ",".join(HEADER_ZH))


async def test_chambers_import_city_level_and_federation(client, world):
    await login(client, world.users["city_admin"])
    rows = [["", "某市物流商会", complete("51320621MJ0000001"), "是", "否", ""],
            ["甲镇", "甲镇商会", complete("51320621MJ0000002"), "否", "是", ""]]
    header = ["区镇/街道", "商(协)会名称", "统一社会信用代码", "工商联所属", "已建调解组织", "平台上的调解组织"]
    resp = await upload(client, csv_bytes(rows, header=header), register="chambers")
    assert resp.status_code == 303
    assert (await confirm(client, resp.headers["location"])).status_code == 303
    with tenant_scope(world.tenants["city"]["id"]):
        found = {r["name"]: r for r in await Chamber.select()}
    assert found["某市物流商会"]["district"] == "" and found["某市物流商会"]["federation_member"]
    assert found["甲镇商会"]["has_mediation_org"] and not found["甲镇商会"]["federation_member"]


async def test_unknown_district_is_a_warning_not_an_error(client, world):
    await login(client, world.users["city_admin"])
    resp = await upload(client, csv_bytes([["丙镇", "丙镇纺织有限公司", code(20), 300, "是", "否", ""]]))
    preview = await client.get(resp.headers["location"])
    assert "“丙镇” (1 rows) is not the district of any mediation center" in preview.text
    assert "Save 1 new" in preview.text


async def test_two_imports_confirmed_at_once_both_succeed(world):
    """Two admins confirm files adding the same new enterprise at the same moment: one adds
    it, the other then finds it and updates it; nobody gets an error page."""
    import asyncio

    from litestar.testing import AsyncTestClient

    from app.accounts.service import add_membership, create_user
    from app.main import create_app

    other = await create_user("second.admin@test.tiaojie.cn", World.PASSWORD, "second")
    await add_membership(other, world.tenants["city"]["id"], "admin")
    rows_a = [["甲镇", "甲镇纺织有限公司", code(1), 350, "是", "否", ""]]
    rows_b = [["甲镇", "甲镇纺织有限公司", code(1), 400, "是", "否", ""], GOOD[2]]
    locations = []
    clients = []
    for email, rows in ((world.users["city_admin"], rows_a), ("second.admin@test.tiaojie.cn", rows_b)):
        c = AsyncTestClient(app=create_app(), base_url="http://testserver.local")
        await c.__aenter__()
        c.headers["Accept-Language"] = "en"
        clients.append(c)
        await login(c, email)
        locations.append((await upload(c, csv_bytes(rows))).headers["location"])
    try:
        results = await asyncio.gather(*(confirm(c, loc) for c, loc in zip(clients, locations)))
    finally:
        for c in clients:
            await c.__aexit__(None, None, None)
    assert [r.status_code for r in results] == [303, 303]
    rows = await enterprises(world)
    assert set(rows) == {code(1), code(3)}
    assert rows[code(1)]["employees"] in (350, 400)
