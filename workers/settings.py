"""arq WorkerSettings: the same database and Redis settings as the web app."""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from arq import cron
from arq.worker import func
from arq.connections import RedisSettings

from app.db import start_db, stop_db
from app.settings import get_settings
from app.outreach.jobs import flush_outreach_counts
from app.notifications.jobs import (
    close_mailer,
    deliver_due_notifications,
    deliver_notification,
    sweep_notifications,
)
from app.events.jobs import send_event_reminders
from app.city.jobs import roll_up_reports, roll_up_reports_nightly, snapshot_coverage
from app.ops.backup import backup_cron_jobs
from workers.heartbeat import heartbeat
from app.accounts.jobs import sweep_expired_sessions
from app.feedback.jobs import erase_feedback_contacts, feedback_deadlines
from app.training.jobs import credit_training_sessions, training_reminders

log = logging.getLogger("tiaojie.worker")


async def startup(ctx: dict[str, Any]) -> None:
    await start_db()
    log.info("worker started")


async def shutdown(ctx: dict[str, Any]) -> None:
    await close_mailer(ctx)
    await stop_db()


def redis_settings() -> RedisSettings:
    url = get_settings().redis_url
    if not url:
        raise RuntimeError("REDIS_URL is not set")
    return RedisSettings.from_dsn(url)


class WorkerSettings:
    functions: list = [
        heartbeat,
        flush_outreach_counts,
        deliver_notification,
        # keep_result=0: the per-tenant job id can be queued again as soon as it is done.
        func(deliver_due_notifications, keep_result=0),
        send_event_reminders,
        snapshot_coverage,
        roll_up_reports,
        roll_up_reports_nightly,
        feedback_deadlines,
        erase_feedback_contacts,
        training_reminders,
        credit_training_sessions,
        sweep_expired_sessions,
    ]
    cron_jobs = [
        cron(heartbeat, second=0, run_at_startup=True, unique=True),
        cron(flush_outreach_counts, second=30, unique=True),
        cron(sweep_notifications, second=30, run_at_startup=True, unique=True),
        cron(send_event_reminders, second=45, run_at_startup=True, unique=True),
        # Hourly, so a month is never missed while a worker is down; written once per month.
        cron(snapshot_coverage, minute=20, second=15, run_at_startup=True, unique=True),
        # The network report's pre-aggregated figures (app.city.reports).
        cron(roll_up_reports, minute=set(range(5, 60, 10)), second=40, run_at_startup=True, unique=True),
        cron(roll_up_reports_nightly, hour=2, minute=40, second=0, unique=True),
        *backup_cron_jobs(),
        # Reminders, overdue alerts and automatic escalation: each once per deadline.
        cron(feedback_deadlines, minute={0, 15, 30, 45}, second=10, unique=True),
        cron(erase_feedback_contacts, hour=3, minute=20, second=0, unique=True),
        # Training: due-soon and overdue reminders, each once per assignment and stage.
        cron(training_reminders, minute={5, 35}, second=20, run_at_startup=True, unique=True),
        cron(credit_training_sessions, minute={10, 40}, second=25, unique=True),
        # Session rows past their expiry (those that never came back to be deleted).
        cron(sweep_expired_sessions, hour=4, minute=10, second=0, unique=True),
    ]
    timezone = ZoneInfo(get_settings().time_zone)  # cron hours (the nightly backup) are TIME_ZONE's
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings()
    max_tries = 5
    health_check_interval = 60
