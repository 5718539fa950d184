from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-26T16:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the sweep and the claim look up due rows by status and time"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def run():
        await RawTable.raw(
            "CREATE INDEX notification_status_scheduled ON notification (status, scheduled_for)"
        )

    async def run_backwards():
        await RawTable.raw("DROP INDEX notification_status_scheduled")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
