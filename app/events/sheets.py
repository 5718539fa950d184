"""A union's attendee list, typed or uploaded as CSV or XLSX: read it whole, check every
line, and report each bad line by its number. Nothing is saved from a list with errors.

A line is a name and, optionally, a mobile number. A first line that is a header
(姓名 / name) is skipped, and so are empty lines.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

from app.events.schemas import MAX_GROUP, normalize_mobile
from app.i18n import gettext as _

MAX_UPLOAD_BYTES = 512 * 1024
# Lines read from a sheet before giving up: a sheet with this many is not a group.
MAX_LINES = 1000
HEADER_WORDS = {"姓名", "名字", "name", "full name", "参会人", "参会人员"}
SPLIT = re.compile(r"\s*[,，\t;；]\s*")


@dataclass
class AttendeeLine:
    line: int
    name: str
    phone: str


@dataclass
class AttendeeList:
    people: list[AttendeeLine] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _check(rows: list[tuple[int, list[str]]]) -> AttendeeList:
    result = AttendeeList()
    seen: dict[str, int] = {}
    for line, cells in rows:
        cells = [c.strip() for c in cells]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if not result.people and not result.errors and cells[0].lower() in HEADER_WORDS:
            continue
        if len(result.people) + len(result.errors) >= MAX_GROUP:
            result.errors.append(_("Line %(line)s: a group has at most %(max)s people.", line=line, max=MAX_GROUP))
            break
        name = cells[0]
        raw_phone = cells[1] if len(cells) > 1 else ""
        problems = []
        if not name:
            problems.append(_("the name is missing"))
        elif len(name) > 100:
            problems.append(_("the name is longer than 100 characters"))
        phone = ""
        if raw_phone:
            phone = normalize_mobile(raw_phone) or ""
            if not phone:
                problems.append(_("“%(phone)s” is not a Chinese mobile number (11 digits starting with 1)", phone=raw_phone))
            elif phone in seen:
                problems.append(_("the mobile number %(phone)s is already on line %(other)s", phone=phone,
                                  other=seen[phone]))
            else:
                seen[phone] = line
        if len(cells) > 2:
            problems.append(_("expected a name and a mobile number, found %(num)s columns", num=len(cells)))
        if problems:
            result.errors.append(_("Line %(line)s: %(problems)s.", line=line, problems="; ".join(problems)))
        else:
            result.people.append(AttendeeLine(line=line, name=name, phone=phone))
    return result


def parse_typed(text: str) -> AttendeeList:
    """One person a line: a name, optionally a comma (or tab) and a mobile number."""
    rows = [(i, SPLIT.split(raw.strip())) for i, raw in enumerate(text.splitlines(), start=1)]
    return _check(rows)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number typed into a number cell
    return str(value)


def _csv_rows(content: bytes) -> list[tuple[int, list[str]]] | None:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return None
    if "\x00" in text:
        return None
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    for i, cells in enumerate(reader, start=1):
        if i > MAX_LINES:
            break
        rows.append((i, [c.replace("，", ",") for c in cells]))
    return rows


def _xlsx_rows(content: bytes) -> list[tuple[int, list[str]]] | None:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        return None
    except Exception:  # noqa: BLE001 - any unreadable workbook is the same answer to the person
        return None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return []
        rows = []
        for i, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if i > MAX_LINES:
                break
            rows.append((i, [_cell(v) for v in values[:5]]))
        return rows
    finally:
        workbook.close()


def parse_upload(filename: str, content: bytes) -> AttendeeList:
    """An uploaded .csv or .xlsx; a file too big, of another kind or unreadable is one error."""
    name = (filename or "").lower()
    if len(content) > MAX_UPLOAD_BYTES:
        return AttendeeList(errors=[_("The file is larger than %(kb)s KB. A group list is much smaller: check the file.",
                                      kb=MAX_UPLOAD_BYTES // 1024)])
    if not content:
        return AttendeeList(errors=[_("The file is empty.")])
    if name.endswith(".xlsx") or content[:2] == b"PK":
        rows = _xlsx_rows(content)
        if rows is None:
            return AttendeeList(errors=[_("This file could not be read as an Excel workbook (.xlsx).")])
    elif name.endswith(".csv") or name.endswith(".txt"):
        rows = _csv_rows(content)
        if rows is None:
            return AttendeeList(errors=[_("This file could not be read as text (CSV).")])
    elif name.endswith(".xls"):
        return AttendeeList(errors=[_("Old .xls workbooks cannot be read: save it as .xlsx or .csv.")])
    else:
        return AttendeeList(errors=[_("Upload a .csv or .xlsx file.")])
    result = _check(rows)
    if result.ok and not result.people:
        result.errors.append(_("The file has no names in it."))
    return result
