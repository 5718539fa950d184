from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-26T16:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one daily count per tenant, day, metric and subject"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="outreach", description=DESCRIPTION)

    async def run():
        # The counter flush upserts on exactly these columns (INSERT ... ON CONFLICT).
        await RawTable.raw(
            'CREATE UNIQUE INDEX daily_count_unique ON daily_count ("tenant", "day", "metric", "ref")'
        )

    async def run_backwards():
        await RawTable.raw("DROP INDEX daily_count_unique")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
