"""One OS process of the concurrency test: registers the people it is given for one event,
all at once, when the test says go. Run by tests/events/test_concurrency.py.

    python -m tests.events.concurrent_registrar '<json: event_id, tenant_id, union, jobs>'

Prints "ready", waits for a line on stdin, then prints one JSON line of outcomes.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


async def main(spec: dict) -> list[dict]:
    from app.events import service
    from app.events.schemas import EventError
    from tenants.scope import tenant_scope

    # Import and connect before the start line, so the race is about registering.
    with tenant_scope(spec["tenant_id"]):
        await service.get_event(spec["event_id"])
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    async def one(job: dict) -> dict:
        started = time.time()
        try:
            if job["kind"] == "group":
                people = [(f"{job['name']}-{i}", "") for i in range(job["seats"])]
                result = await service.register_group(
                    {"id": spec["union_id"], "kind": "union"}, spec["event_id"], job["seats"], people,
                    {"id": None, "name": job["name"], "email": "rep@example.cn"},
                )
            else:
                with tenant_scope(spec["tenant_id"]):
                    result = await service.register_individual(spec["event_id"], job["name"], job["phone"])
            return {"job": job["name"], "ok": True, "id": result.id, "status": result.status,
                    "started": started, "finished": time.time()}
        except EventError as exc:
            return {"job": job["name"], "ok": False, "refused": exc.message}
        except Exception as exc:  # noqa: BLE001 - the test reports any error
            return {"job": job["name"], "ok": False, "error": f"{type(exc).__name__}: {exc}"}

    return await asyncio.gather(*(one(job) for job in spec["jobs"]))


if __name__ == "__main__":
    outcome = asyncio.run(main(json.loads(sys.argv[1])))
    print(json.dumps(outcome), flush=True)
