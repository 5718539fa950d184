from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-27T23:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one access row per organisation and item; open items looked up by status and deadline"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="feedback", description=DESCRIPTION)

    async def run():
        # An escalation adds the receiving organisation with INSERT ... ON CONFLICT DO NOTHING.
        await RawTable.raw('CREATE UNIQUE INDEX feedback_access_unique ON feedback_access ("tenant", "item")')
        await RawTable.raw('CREATE INDEX feedback_item_status_due ON feedback_item ("status", "due_at")')

    async def run_backwards():
        await RawTable.raw("DROP INDEX feedback_item_status_due")
        await RawTable.raw("DROP INDEX feedback_access_unique")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
