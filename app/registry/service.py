"""The register of enterprises and chambers: reading uploads, previewing and applying
them (all or nothing, updating by credit code), exporting, listing.

Every function works inside the scope of the city center that keeps the register
(``tenant_scope(city_id)``); the tenants the rows link to are read from the tree.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from app.i18n import gettext as _
from app.i18n import lazy_gettext as _l
from app.i18n import translations
from app.registry import creditcode, sheets
from app.registry.tables import Chamber, Enterprise, RegistryUpload
from tenants.scope import current_tenant_id, unscoped
from tenants.tables import Tenant

UPLOAD_TTL = timedelta(hours=1)
PAGE_SIZE = 100
MAX_EMPLOYEES = 10_000_000
# Shown in the preview; everything is applied, these are only the rows listed.
PREVIEW_LIMIT = 200
ERROR_LIMIT = 500


@dataclass(frozen=True)
class Column:
    key: str
    header: Any  # a lazy msgid: the English header, its translation is the Chinese one
    kind: str  # text, district, code, int, bool, org
    required: bool = False
    help: Any = ""


@dataclass(frozen=True)
class Register:
    key: str
    table: Any
    columns: tuple[Column, ...]
    org_kind: str  # the kind of organisation a row links to
    org_field: str
    flag_field: str  # "has a committee / mediation organisation"
    title: Any
    district_required: bool


DISTRICT_HELP = _l("The district, town or street as the city names it, e.g. 城东镇.")
CODE_HELP = _l("18 characters, as on the business licence or registration certificate.")
BOOL_HELP = _l("是 or 否 (yes or no); empty means no.")

REGISTERS: dict[str, Register] = {
    "enterprises": Register(
        key="enterprises",
        table=Enterprise,
        columns=(
            Column("district", _l("District / town / street"), "district", True, DISTRICT_HELP),
            Column("name", _l("Enterprise name"), "text", True),
            Column("credit_code", _l("Unified social credit code"), "code", True, CODE_HELP),
            Column("employees", _l("Employees"), "int", True, _l("A whole number.")),
            Column("labour_intensive", _l("Labour-intensive"), "bool", False, BOOL_HELP),
            Column("has_committee", _l("Has a mediation committee"), "bool", False, BOOL_HELP),
            Column("committee", _l("Committee on the platform"), "org", False,
                   _l("The name or web address of its enterprise mediation committee on the platform, if it has one there.")),
        ),
        org_kind="enterprise_committee",
        org_field="committee",
        flag_field="has_committee",
        title=_l("Enterprises"),
        district_required=True,
    ),
    "chambers": Register(
        key="chambers",
        table=Chamber,
        columns=(
            Column("district", _l("District / town / street"), "district", False,
                   _l("Empty for a city-level chamber or association.")),
            Column("name", _l("Chamber or association name"), "text", True),
            Column("credit_code", _l("Unified social credit code"), "code", True, CODE_HELP),
            Column("federation_member", _l("Linked to the federation of industry and commerce"), "bool", False, BOOL_HELP),
            Column("has_mediation_org", _l("Has a mediation organisation"), "bool", False, BOOL_HELP),
            Column("mediation_org", _l("Mediation organisation on the platform"), "org", False,
                   _l("The name or web address of its mediation organisation on the platform, if it has one there.")),
        ),
        org_kind="chamber_org",
        org_field="mediation_org",
        flag_field="has_mediation_org",
        title=_l("Chambers and associations"),
        district_required=False,
    ),
}

TRUE_WORDS = {"是", "有", "已建", "已设立", "对", "y", "yes", "true", "1", "√", "✓", "✔"}
FALSE_WORDS = {"否", "无", "没有", "未建", "未设立", "n", "no", "false", "0", "×", "✗", "✘", ""}


def get_register(key: str) -> Register | None:
    return REGISTERS.get(key)


# --- reading an upload ---------------------------------------------------------


class UploadError(ValueError):
    """The file as a whole cannot be used; ``message`` says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"[\s()（）/、,，.:：*\-_]", "", text)


def _msgid(lazy: Any) -> str:
    """The English message id behind a lazy translation (babel's LazyProxy keeps its arguments)."""
    args = getattr(lazy, "_args", None)
    return args[0] if args else str(lazy)


def _header_names(column: Column) -> set[str]:
    msgid = _msgid(column.header)
    return {_header_key(msgid), _header_key(translations("zh_Hans").ugettext(msgid)), _header_key(column.key)}


def sheet_error_message(exc: sheets.SheetError) -> str:
    return {
        "empty": _("The file is empty."),
        "too_big": _("The file is larger than %(mb)s MB. Split it into several files.",
                     mb=sheets.MAX_BYTES // (1024 * 1024)),
        "too_many_rows": _("The file has more than %(limit)s rows. Split it into several files.",
                           limit=sheets.MAX_ROWS),
        "xls": _("This is an old Excel file (.xls). Save it as .xlsx or CSV and upload it again."),
        "encoding": _("The text of this CSV file cannot be read. Save it as “CSV UTF-8” or as .xlsx."),
        "unreadable": _("This file cannot be read as a table. Upload a .xlsx or .csv file made from the template."),
    }.get(exc.reason, _("This file cannot be read as a table. Upload a .xlsx or .csv file made from the template."))


def read_upload(register: Register, data: bytes, filename: str = "") -> tuple[str, list[dict[str, Any]], list[str]]:
    """(format, rows, notes): each row is {"line": n, column key: text}; raises UploadError."""
    try:
        fmt, table = sheets.read_table(data, filename)
    except sheets.SheetError as exc:
        raise UploadError(sheet_error_message(exc)) from None
    header_index = next((i for i, row in enumerate(table) if any(row)), None)
    if header_index is None:
        raise UploadError(_("The file is empty."))
    header = table[header_index]
    names = {col.key: _header_names(col) for col in register.columns}
    positions: dict[str, int] = {}
    notes: list[str] = []
    for pos, text in enumerate(header):
        key = next((k for k, found in names.items() if _header_key(text) in found), None)
        if key is None:
            if text:
                notes.append(_("The column “%(column)s” is not part of the register and was left out.", column=text))
            continue
        if key in positions:
            raise UploadError(_("The column “%(column)s” appears twice.", column=text))
        positions[key] = pos
    missing = [str(col.header) for col in register.columns if col.key not in positions
               and (col.required or col.key == "district")]
    if missing:
        raise UploadError(_("The first row must name the columns; these are missing: %(columns)s. "
                            "Start from the template.", columns="、".join(missing)))
    rows = []
    for offset, raw in enumerate(table[header_index + 1:]):
        if not any(raw):
            continue
        row: dict[str, Any] = {"line": header_index + offset + 2}
        for key, pos in positions.items():
            row[key] = raw[pos] if pos < len(raw) else ""
        rows.append(row)
    if not rows:
        raise UploadError(_("The file has no rows under its header."))
    return fmt, rows, notes


# --- analysing rows against the register -----------------------------------------


@dataclass
class Problem:
    line: int
    column: str
    value: str
    message: str


@dataclass
class Analysis:
    rows: list[dict[str, Any]] = field(default_factory=list)  # valid rows, normalized, with "id" when existing
    errors: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_bool(text: str) -> bool | None:
    word = unicodedata.normalize("NFKC", text or "").strip().lower()
    yes, no = _("Yes").lower(), _("No").lower()
    if word in TRUE_WORDS or word == yes:
        return True
    if word in FALSE_WORDS or word == no:
        return False
    return None


def code_message(exc: creditcode.CreditCodeError) -> str:
    if exc.reason == "length":
        return _("A unified social credit code has 18 characters; this one has %(n)s.", n=len(exc.code))
    if exc.reason == "charset":
        return _("A unified social credit code uses digits and capital letters except I, O, S, V and Z.")
    if exc.reason == "division":
        return _("Characters 3 to 8 of a unified social credit code are digits (the registering area).")
    if exc.code.isdigit():
        return _("The check character does not match: a character was mistyped, or a spreadsheet turned "
                 "the code into a number (format the column as text).")
    return _("The check character does not match: a character was probably mistyped.")


async def _organisations(kind: str) -> list[dict[str, Any]]:
    return await Tenant.select(Tenant.id, Tenant.slug, Tenant.name, Tenant.district, Tenant.active).where(
        Tenant.kind == kind
    )


async def known_districts() -> set[str]:
    """Districts of the city's district centers, and those named in either register."""
    centers = await Tenant.select(Tenant.district).where(Tenant.kind == "district_center").distinct()
    found = {r["district"] for r in centers if r["district"]}
    for table in (Enterprise, Chamber):
        rows = await table.select(table.district).distinct()
        found |= {r["district"] for r in rows if r["district"]}
    return found


def _values_of(register: Register, row: dict[str, Any]) -> dict[str, Any]:
    return {col.key: row[col.key] for col in register.columns}


async def analyse(register: Register, raw_rows: list[dict[str, Any]]) -> Analysis:
    """Validate every row and compare it with the register: new, changed, unchanged."""
    table = register.table
    result = Analysis()
    orgs = await _organisations(register.org_kind)
    by_slug = {o["slug"]: o for o in orgs}
    by_name: dict[str, list[dict[str, Any]]] = {}
    for o in orgs:
        by_name.setdefault(o["name"], []).append(o)
    existing = {r["credit_code"]: r for r in await table.select(
        table.id, *(getattr(table, c.key) for c in register.columns))}
    holder_of = {r[register.org_field]: code for code, r in existing.items() if r[register.org_field]}
    districts = await known_districts()
    headers = {c.key: str(c.header) for c in register.columns}
    seen_codes: dict[str, int] = {}
    seen_orgs: dict[int, int] = {}
    new_districts: dict[str, int] = {}

    for raw in raw_rows:
        line = raw["line"]
        problems: list[Problem] = []

        def problem(key: str, message: str) -> None:
            problems.append(Problem(line, headers[key], str(raw.get(key, "")), message))

        values: dict[str, Any] = {}
        for col in register.columns:
            text = str(raw.get(col.key, "") or "").strip()
            if col.kind in ("text", "district"):
                text = " ".join(unicodedata.normalize("NFKC", text).split()) if col.kind == "district" else text
                if not text and (col.required or (col.kind == "district" and register.district_required)):
                    problem(col.key, _("This field is required."))
                elif len(text) > (100 if col.kind == "district" else 200):
                    problem(col.key, _("At most %(limit)s characters.", limit=100 if col.kind == "district" else 200))
                values[col.key] = text
            elif col.kind == "code":
                try:
                    values[col.key] = creditcode.validate(text)
                except creditcode.CreditCodeError as exc:
                    problem(col.key, _("This field is required.") if not text else code_message(exc))
            elif col.kind == "int":
                digits = unicodedata.normalize("NFKC", text).replace(",", "").replace("，", "")
                if not digits:
                    problem(col.key, _("This field is required."))
                elif not digits.isdigit() or int(digits) > MAX_EMPLOYEES:
                    problem(col.key, _("Enter a whole number of people, like 120."))
                else:
                    values[col.key] = int(digits)
            elif col.kind == "bool":
                flag = parse_bool(text)
                if flag is None:
                    problem(col.key, _("Write 是 or 否 (yes or no)."))
                values[col.key] = bool(flag)
            elif col.kind == "org":
                values[col.key] = None
                if text:
                    match = by_slug.get(text.lower())
                    named = by_name.get(text, [])
                    if match is None and len(named) == 1:
                        match = named[0]
                    if match is None and len(named) > 1:
                        problem(col.key, _("Several organisations have this name; write its web address instead, "
                                           "e.g. %(slug)s.", slug=named[0]["slug"]))
                    elif match is None:
                        problem(col.key, _("There is no %(kind)s with this name or web address on the platform.",
                                           kind=_kind_word(register)))
                    else:
                        values[col.key] = match["id"]
                        values["_org"] = match

        code = values.get("credit_code")
        if code:
            if code in seen_codes:
                problem("credit_code", _("The same code is on line %(line)s.", line=seen_codes[code]))
            else:
                seen_codes[code] = line
        org = values.pop("_org", None)
        if org is not None:
            if values.get(register.flag_field) is False:
                problem(register.flag_field, _("The row names its organisation on the platform, so write 是 here."))
            if org["district"] and values.get("district") and org["district"] != values["district"]:
                problem(register.org_field, _("%(name)s is in %(district)s, not in the district of this row.",
                                              name=org["name"], district=org["district"]))
            if org["id"] in seen_orgs:
                problem(register.org_field, _("The same organisation is named on line %(line)s.",
                                              line=seen_orgs[org["id"]]))
            else:
                seen_orgs[org["id"]] = line
        if problems:
            result.errors.extend(problems)
            continue
        if values["district"] and values["district"] not in districts:
            new_districts[values["district"]] = new_districts.get(values["district"], 0) + 1
        before = existing.get(code)
        row = {**values, "line": line, "id": before["id"] if before else None}
        result.rows.append(row)
        if before is None:
            result.new.append(row)
        else:
            changes = [(c.key, before[c.key], values[c.key]) for c in register.columns if before[c.key] != values[c.key]]
            if changes:
                result.changed.append({**row, "changes": changes})
            else:
                result.unchanged += 1

    # An organisation represents one row: one named here must not stay with another row.
    moving_away = {r["credit_code"] for r in result.rows}
    for row in result.rows:
        org_id = row[register.org_field]
        holder = holder_of.get(org_id) if org_id else None
        if holder and holder != row["credit_code"] and holder not in moving_away:
            result.errors.append(Problem(
                row["line"], headers[register.org_field], "",
                _("This organisation already stands for %(name)s (%(code)s) in the register.",
                  name=existing[holder]["name"], code=holder)))
    result.errors.sort(key=lambda p: p.line)
    for district, count in sorted(new_districts.items()):
        result.warnings.append(_("“%(district)s” (%(n)s rows) is not the district of any mediation center: "
                                 "it will count as a district without a center. Check the spelling.",
                                 district=district, n=count))
    return result


def _kind_word(register: Register) -> str:
    return _("enterprise mediation committee") if register.org_kind == "enterprise_committee" else \
        _("chamber mediation organisation")


async def lock_register(register: Register) -> None:
    """Inside the writing transaction: one import of a register at a time. Two imports
    confirmed at once would otherwise both insert the same new code; on PostgreSQL the
    second then fails on the unique index instead of waiting and updating. (SQLite's
    write transaction, BEGIN IMMEDIATE, already lets one writer in at a time.)"""
    from app.db import get_engine

    if get_engine().engine_type == "postgres":
        key = int(hashlib.sha256(f"registry:{register.key}:{current_tenant_id()}".encode()).hexdigest()[:15], 16)
        await register.table.raw("SELECT pg_advisory_xact_lock({})", key)


async def apply(register: Register, analysis: Analysis) -> dict[str, int]:
    """Write the analysed rows: all of them or, on any error, none (the caller's transaction)."""
    if not analysis.ok:
        raise ValueError("an analysis with errors cannot be applied")
    table = register.table
    tenant_id = current_tenant_id()
    keys = [c.key for c in register.columns]
    org_col = getattr(table, register.org_field)
    # Links that move are first let go, so the unique index never sees one organisation twice.
    releasing = [r["id"] for r in analysis.changed if any(k == register.org_field for k, _o, _n in r["changes"])]
    for start in range(0, len(releasing), 500):
        await table.update({org_col: None}).where(table.id.is_in(releasing[start:start + 500]))
    for row in analysis.changed:
        await table.update({getattr(table, k): row[k] for k in keys}).where(table.id == row["id"])
    for start in range(0, len(analysis.new), 500):
        await table.insert(*(table(tenant=tenant_id, **{k: r[k] for k in keys})
                             for r in analysis.new[start:start + 500]))
    return {"new": len(analysis.new), "changed": len(analysis.changed), "unchanged": analysis.unchanged}


# --- uploads kept between preview and confirmation -------------------------------


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def store_upload(user_id: int, register: Register, filename: str, fmt: str,
                       rows: list[dict[str, Any]], notes: list[str]) -> str:
    token = secrets.token_urlsafe(18)
    await RegistryUpload.delete().where(RegistryUpload.expires_at < _now())
    await RegistryUpload(tenant=current_tenant_id(), token=token, user=user_id, register=register.key,
                         filename=filename[:200], file_format=fmt, rows=rows, notes=notes,
                         expires_at=_now() + UPLOAD_TTL).save()
    return token


async def load_upload(token: str, user_id: int, register: Register) -> dict[str, Any] | None:
    """The person's own, unexpired upload of this register in the active city; else None."""
    if not token or len(token) > 32:
        return None
    row = await RegistryUpload.select().where(
        (RegistryUpload.token == token) & (RegistryUpload.user == user_id)
        & (RegistryUpload.register == register.key) & (RegistryUpload.expires_at > _now())
    ).first()
    if row is None:
        return None
    import json

    for key in ("rows", "notes"):
        if isinstance(row[key], str):
            row[key] = json.loads(row[key])
    return row


async def discard_upload(token: str) -> None:
    await RegistryUpload.delete().where(RegistryUpload.token == token)


async def purge_expired_uploads() -> int:
    with unscoped("expired uploads of every city are removed"):
        gone = await RegistryUpload.delete().where(RegistryUpload.expires_at < _now()).returning(RegistryUpload.id)
    return len(gone)


# --- exporting ------------------------------------------------------------------


def _yes_no(flag: bool) -> str:
    return _("Yes") if flag else _("No")


async def export_rows(register: Register, district: str | None = None) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) in the import format, in the current language."""
    table = register.table
    org_col = getattr(table, register.org_field)
    query = table.select(
        *(getattr(table, c.key) for c in register.columns if c.kind != "org"),
        org_col.slug.as_alias("org_slug"), org_col.name.as_alias("org_name"),
    ).order_by(table.district).order_by(table.name)
    if district is not None:
        query = query.where(table.district == district)
    rows = await query
    names: dict[str, int] = {}
    for o in await _organisations(register.org_kind):
        names[o["name"]] = names.get(o["name"], 0) + 1
    header = [str(c.header) for c in register.columns]
    out = []
    for r in rows:
        line = []
        for c in register.columns:
            if c.kind == "bool":
                line.append(_yes_no(r[c.key]))
            elif c.kind == "org":
                name = r["org_name"]
                line.append("" if not name else (name if names.get(name, 0) == 1 else r["org_slug"]))
            else:
                line.append(r[c.key])
        out.append(line)
    return header, out


def file_response_parts(register: Register, header: list[str], rows: list[list[Any]], fmt: str,
                        stem: str, instructions: bool = False) -> tuple[bytes, str, str]:
    """(content, media type, file name)."""
    if fmt == "xlsx":
        books = [(str(register.title), header, rows)]
        if instructions:
            books.append((_("Instructions"), [_("Column"), _("Required"), _("What to write")],
                          [[str(c.header), _yes_no(c.required), str(c.help)] for c in register.columns]))
        return sheets.write_xlsx(books, text_columns={_code_position(register)}), sheets.XLSX_MEDIA_TYPE, f"{stem}.xlsx"
    return sheets.write_csv(header, rows), sheets.CSV_MEDIA_TYPE, f"{stem}.csv"


def _code_position(register: Register) -> int:
    return next(i for i, c in enumerate(register.columns) if c.kind == "code")


# --- lists ----------------------------------------------------------------------


async def list_rows(register: Register, district: str = "", q: str = "", missing: bool = False,
                    page: int = 1) -> tuple[list[dict[str, Any]], int]:
    table = register.table
    org_col = getattr(table, register.org_field)
    query = table.select(
        table.id, *(getattr(table, c.key) for c in register.columns if c.kind != "org"),
        org_col.slug.as_alias("org_slug"), org_col.name.as_alias("org_name"),
    )
    count = table.count()
    conditions = []
    if district:
        conditions.append(table.district == district)
    if q:
        text = q.replace("%", "").replace("_", "").replace("\\", "")
        conditions.append(table.name.like(f"%{text}%") | (table.credit_code == creditcode.normalize(q)))
    if missing:
        conditions.append(getattr(table, register.flag_field) == False)  # noqa: E712
        if register.key == "enterprises":
            conditions.append((table.labour_intensive == True) & (table.employees >= 100))  # noqa: E712
    for condition in conditions:
        query = query.where(condition)
        count = count.where(condition)
    total = await count
    rows = await query.order_by(table.district).order_by(table.name).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    return rows, total


async def district_summary() -> list[dict[str, Any]]:
    """Per district: how many enterprises (and labour-intensive 100+ ones) and chambers are registered."""
    summary: dict[str, dict[str, int]] = {}

    def slot(district: str) -> dict[str, int]:
        return summary.setdefault(district, {"enterprises": 0, "in_scope": 0, "chambers": 0})

    for r in await Enterprise.select(Enterprise.district, Enterprise.employees, Enterprise.labour_intensive):
        s = slot(r["district"])
        s["enterprises"] += 1
        s["in_scope"] += int(r["labour_intensive"] and r["employees"] >= 100)
    for r in await Chamber.select(Chamber.district):
        slot(r["district"])["chambers"] += 1
    return [{"district": d, **summary[d]} for d in sorted(summary, key=lambda d: (d != "", d))]
