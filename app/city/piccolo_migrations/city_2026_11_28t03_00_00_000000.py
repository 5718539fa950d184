from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-28T03:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one report figure per month, district and measure"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="city", description=DESCRIPTION)

    async def run():
        # The report roll-up writes with ON CONFLICT on exactly these columns.
        await RawTable.raw('CREATE UNIQUE INDEX report_figure_unique ON report_figure ("month", "district", "measure")')

    async def run_backwards():
        await RawTable.raw("DROP INDEX report_figure_unique")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
