"""Reading and writing the register's files: CSV (UTF-8 with or without BOM, or GB18030 as
Chinese Excel saves it) and XLSX (openpyxl). Cells come back as stripped strings."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from typing import Any, Iterable

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000  # data rows, the header not counted
MAX_COLUMNS = 30
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


class SheetError(ValueError):
    """The file cannot be read as a table; ``reason`` says why (see ``app.registry.service``)."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _trimmed(rows: Iterable[Iterable[Any]]) -> list[list[str]]:
    """Rows as strings, at most MAX_ROWS + 1 (header) of them, blank rows dropped at the end."""
    table: list[list[str]] = []
    for raw in rows:
        row = [_cell(v) for v in list(raw)[:MAX_COLUMNS]]
        while row and row[-1] == "":
            row.pop()
        table.append(row)
        if len(table) > MAX_ROWS + 1 + 1000:  # generous for blank lines; counted exactly below
            break
    while table and not table[-1]:
        table.pop()
    if sum(1 for r in table[1:] if r) > MAX_ROWS:
        raise SheetError("too_many_rows", limit=MAX_ROWS)
    return table


def decode_csv(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise SheetError("encoding") from None


def read_csv(data: bytes) -> list[list[str]]:
    try:
        text = decode_csv(data)
    except UnicodeDecodeError:
        raise SheetError("encoding") from None
    if "\x00" in text:
        raise SheetError("unreadable")
    sample = text[:4096]
    delimiter = ","
    first = sample.splitlines()[0] if sample else ""
    if first.count("\t") > first.count(",") and first.count("\t") >= first.count(";"):
        delimiter = "\t"
    elif first.count(";") > first.count(","):
        delimiter = ";"
    try:
        return _trimmed(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        raise SheetError("unreadable") from None


def read_xlsx(data: bytes) -> list[list[str]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise SheetError("unreadable") from None
    try:
        if not book.worksheets:
            raise SheetError("unreadable")
        return _trimmed(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()


def read_table(data: bytes, filename: str = "") -> tuple[str, list[list[str]]]:
    """(format, rows) of an uploaded file; the format is told by its content, not its name."""
    if not data:
        raise SheetError("empty")
    if len(data) > MAX_BYTES:
        raise SheetError("too_big", limit=MAX_BYTES)
    if data.startswith(b"PK\x03\x04"):
        return "xlsx", read_xlsx(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SheetError("xls")  # the old binary Excel format
    return "csv", read_csv(data)


def write_csv(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    """UTF-8 with a BOM, so that Excel opens Chinese text correctly."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def write_xlsx(sheets: list[tuple[str, list[str], Iterable[list[Any]]]], text_columns: set[int] = frozenset()) -> bytes:
    """One worksheet per (title, header, rows); the first is the one that is read back.
    Columns in ``text_columns`` (0-based, first sheet) are formatted as text, so that
    Excel keeps an 18-digit code as typed instead of turning it into a number."""
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    book.remove(book.active)
    for index, (title, header, rows) in enumerate(sheets):
        sheet = book.create_sheet(title=title[:31])
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for i, text in enumerate(header):
            sheet.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width = max(12, min(40, len(text) * 2 + 4))
        count = 0  # rows written; the column style below covers the cells typed later
        for row in rows:
            sheet.append(list(row))
            count += 1
        if index == 0:
            for col in text_columns:
                letter = openpyxl.utils.get_column_letter(col + 1)
                for (cell,) in sheet.iter_rows(min_col=col + 1, max_col=col + 1, min_row=2, max_row=count + 1):
                    cell.number_format = "@"
                sheet.column_dimensions[letter].number_format = "@"
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
