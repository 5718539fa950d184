"""The web app hides what start-up built from the garbage collector (gc.freeze), so full
collections under load do not walk every module, table and catalog again."""

from __future__ import annotations

import gc

from litestar.testing import AsyncTestClient

from app.main import create_app


async def test_start_up_freezes_what_it_built_once_per_process(monkeypatch):
    from app import main

    monkeypatch.setattr(main, "_settled", [])  # as in a new process
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    async with AsyncTestClient(app=create_app(), base_url="http://testserver.local") as client:
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # the imported application, not a handful of objects
        assert (await client.get("/healthz")).status_code in (200, 503)
    # A second app in the same process freezes nothing more (its predecessor's garbage
    # would never be collected).
    async with AsyncTestClient(app=create_app(), base_url="http://testserver.local"):
        assert gc.get_freeze_count() <= frozen  # frozen objects freed by refcount leave it
