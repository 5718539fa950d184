"""Logs: one JSON object per line in production (``LOG_FORMAT=json``), text otherwise.

Every line written while a request is handled carries its ``request_id`` (the
``X-Request-Id`` response header and the id on error pages). Nothing a person
wrote is logged: requests are logged by route template (``/o/{slug:str}``),
never by raw path or query string, and every line is passed through
``redact()``, which masks phone numbers and email addresses wherever they come
from (an SMTP error, a library's message).
"""

from __future__ import annotations

import atexit
import functools
import json
import logging
import re
import sys
import threading
import time
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Chinese mobile numbers (with or without +86), landlines with an area code, and email addresses.
_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)|(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

# Attributes every LogRecord has; anything else was passed in ``extra=`` and is kept.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


# Every phone number above has 7 digits in a row and every address an "@": text without
# either (most lines: "GET /o/{slug:str} 200 3.1ms") needs neither substitution.
_MAYBE_PERSONAL = re.compile(r"\d{7}|@")


def redact(text: str) -> str:
    if not _MAYBE_PERSONAL.search(text):
        return text
    return _EMAIL.sub("[email]", _PHONE.sub("[phone]", text))


@functools.lru_cache(maxsize=4)
def _second(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))


class JsonFormatter(logging.Formatter):
    def __init__(self, component: str) -> None:
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": _second(int(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "component": self.component,
            "message": redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry and not key.startswith("_"):
                entry[key] = value if isinstance(value, (int, float, bool)) or value is None else redact(str(value))
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = redact(super().format(record))
        request_id = request_id_var.get()
        return f"{line} [request {request_id}]" if request_id else line


class BatchingStreamHandler(logging.StreamHandler):
    """Writes lines in batches: at most ``FLUSH_EVERY`` seconds after they were logged, at
    once for a warning or worse, when ``BATCH`` lines wait, and at exit.

    One write per line (every request logs one) cost 5–6% of a light page's time in the
    web process (README "Performance"). A process killed with SIGKILL loses at most the
    last quarter second of info lines; warnings and errors are written as they come."""

    FLUSH_EVERY = 0.25
    BATCH = 256

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._closed = threading.Event()
        self._flusher = threading.Thread(target=self._flush_now_and_then, name="log-flush", daemon=True)
        self._flusher.start()
        atexit.register(self.flush)

    def emit(self, record: logging.LogRecord) -> None:  # called with self.lock held
        try:
            self._pending.append(self.format(record) + self.terminator)
        except Exception:  # noqa: BLE001 - logging must not fail the caller
            self.handleError(record)
            return
        if record.levelno >= logging.WARNING or len(self._pending) >= self.BATCH:
            self._write()

    def _write(self) -> None:
        lines, self._pending = self._pending, []
        if lines:
            try:
                self.stream.write("".join(lines))
                self.stream.flush()
            except Exception:  # noqa: BLE001 - a closed stream at exit
                pass

    def flush(self) -> None:
        with self.lock:
            self._write()

    def _flush_now_and_then(self) -> None:
        while not self._closed.wait(self.FLUSH_EVERY):
            if self._pending:
                self.flush()

    def close(self) -> None:
        """Write what waits and end the flusher (logging replaced this handler, or exit)."""
        self._closed.set()
        if threading.current_thread() is not self._flusher:
            self._flusher.join(timeout=1)
        self.flush()
        atexit.unregister(self.flush)
        super().close()


_handler: logging.Handler | None = None
_configured: str | None = None


def configure_logging(component: str, log_format: str | None = None) -> None:
    """Send every logger's records (ours, uvicorn's, arq's) to stderr in one format."""
    global _configured, _handler
    from app.settings import get_settings

    log_format = log_format or get_settings().log_format
    if _configured == log_format:
        return
    handler = BatchingStreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(component) if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()  # its lines are written and its flusher ends
    root.addHandler(handler)
    _handler = handler
    root.setLevel(logging.INFO)
    # No line shows the caller's file and line, thread or process name: don't look them up
    # for every record (Python's logging HOWTO, "Optimization"; 13 of 40 µs a request line).
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "arq"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    _configured = log_format
