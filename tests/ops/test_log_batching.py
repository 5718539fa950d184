"""Log lines are written in batches (one write per line cost 5–6% of a light page in the
web process): info lines wait at most a quarter second, a warning goes out at once with
what waited before it, and nothing waiting is lost when the process exits."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import time

from app.ops.logs import BatchingStreamHandler, JsonFormatter


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _logger(stream: CountingStream) -> logging.Logger:
    handler = BatchingStreamHandler(stream)
    handler.setFormatter(JsonFormatter("web"))
    logger = logging.getLogger(f"test.batching.{id(stream)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_info_lines_are_written_together_and_soon():
    stream = CountingStream()
    logger = _logger(stream)
    for i in range(20):
        logger.info("request %d", i)
    assert stream.writes == 0  # waiting, not lost: written by the flusher
    deadline = time.monotonic() + 2
    while stream.writes == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert stream.writes == 1
    lines = stream.getvalue().splitlines()
    assert [line.split('"message": "')[1].split('"')[0] for line in lines] == [f"request {i}" for i in range(20)]


def test_a_warning_is_written_at_once_after_what_waited():
    stream = CountingStream()
    logger = _logger(stream)
    logger.info("before")
    logger.warning("something is wrong")
    assert stream.writes == 1
    first, second = stream.getvalue().splitlines()
    assert '"before"' in first and '"something is wrong"' in second


def test_lines_waiting_at_exit_are_written():
    code = ("import logging; from app.ops.logs import configure_logging; configure_logging('web', 'json'); "
            "[logging.getLogger('tiaojie.test').info('line %d', i) for i in range(5)]")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert [f'"line {i}"' in result.stderr for i in range(5)] == [True] * 5


def test_replacing_the_logging_format_writes_what_waited_and_ends_the_old_flusher():
    code = ("import logging, threading; from app.ops.logs import configure_logging; "
            "configure_logging('web', 'json'); logging.getLogger('tiaojie.test').info('first format'); "
            "configure_logging('web', 'text'); logging.getLogger('tiaojie.test').info('second format'); "
            "print(sum(t.name == 'log-flush' for t in threading.enumerate()))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"  # the replaced handler's thread has ended
    first, second = result.stderr.splitlines()
    assert first.startswith("{") and '"first format"' in first
    assert second.endswith("INFO tiaojie.test second format")


def test_redact_skips_only_text_that_cannot_hold_a_number_or_address():
    """redact() returns text without 7 digits in a row or an "@" untouched; with them it
    masks exactly as the full substitutions do."""
    import random

    from app.ops.logs import _EMAIL, _PHONE, redact

    def full(text: str) -> str:
        return _EMAIL.sub("[email]", _PHONE.sub("[phone]", text))

    samples = ["GET /o/{slug:str} 200 3.1ms", "call 13812345678 now", "+8613912345678", "86-13712345678",
               "office 010-12345678 ext", "0755-1234567", "mail wang.li@example.cn today", "a@b", "1381234567",
               "id 12345678901234", "SMTP 550 <zhang@qq.com> rejected", "1 2 3 4 5 6 7"]
    rng = random.Random(14)
    alphabet = "0123456789-+ @.abc"
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(3000)]
    for text in samples:
        assert redact(text) == full(text), text
    assert redact("call 13812345678 now") == "call [phone] now"
    assert redact("mail wang.li@example.cn today") == "mail [email] today"
