"""Kept apart from app.ops.metrics: prometheus_client picks its multiprocess mode when it is
first imported, so the directory must be set before anything imports it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def prepare_multiprocess_dir(path: Path) -> None:
    """Before the web processes start: an empty directory for their metric files."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
