"""Uploaded training files (materials, evidence): size and type limits, safe storage.

A file is accepted when its extension is on the list *and* its first bytes match what
that kind of file starts with, so a renamed program is refused. It is stored under
``<uploads>/training/`` by a random name (never the name it was uploaded with) and
served only through a route that checks who may read it."""

from __future__ import annotations

import secrets
from pathlib import Path

from app.i18n import gettext as _
from app.settings import get_settings

MAX_BYTES = 10 * 1024 * 1024
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office documents
ZIP = b"PK\x03\x04"  # Office Open XML
# extension -> (content type, accepted first bytes)
TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (ZIP,)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (ZIP,)),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (ZIP,)),
    ".doc": ("application/msword", (OLE,)),
    ".xls": ("application/vnd.ms-excel", (OLE,)),
    ".ppt": ("application/vnd.ms-powerpoint", (OLE,)),
    ".txt": ("text/plain; charset=utf-8", ()),
}
ACCEPT = ",".join(TYPES)


class FileRefused(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check(filename: str, data: bytes) -> str:
    """The content type of an acceptable upload; ``FileRefused`` says why not."""
    if not data:
        raise FileRefused(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise FileRefused(_("The file is larger than %(mb)s MB.", mb=MAX_BYTES // (1024 * 1024)))
    kind = TYPES.get(Path(filename).suffix.lower())
    if kind is None:
        raise FileRefused(_("Upload a PDF, Word, Excel, PowerPoint, image (PNG or JPEG) or text file."))
    content_type, starts = kind
    if starts and not any(data.startswith(s) for s in starts):
        raise FileRefused(_("The file's contents do not match its name; upload the original file."))
    if not starts:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise FileRefused(_("A text file must be plain UTF-8 text.")) from None
    return content_type


def folder() -> Path:
    path = get_settings().uploads_dir / "training"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store(data: bytes, filename: str) -> str:
    """Write the file under a random name (keeping only its checked extension)."""
    name = secrets.token_hex(16) + Path(filename).suffix.lower()
    (folder() / name).write_bytes(data)
    return name


def path_of(stored_name: str) -> Path | None:
    """The stored file, or None; a name that tries to leave the folder is never one."""
    if not stored_name or "/" in stored_name or "\\" in stored_name or stored_name.startswith("."):
        return None
    path = folder() / stored_name
    return path if path.is_file() else None


def safe_download_name(name: str) -> str:
    return "".join(c for c in name if c not in '"\\/\r\n')[:150] or "file"
