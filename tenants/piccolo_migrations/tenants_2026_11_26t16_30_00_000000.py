from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-26T16:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one membership per person and tenant"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def run():
        # Quoted: "user" is a reserved word in PostgreSQL.
        await RawTable.raw(
            'CREATE UNIQUE INDEX membership_user_tenant_unique ON membership ("user", "tenant")'
        )

    async def run_backwards():
        await RawTable.raw("DROP INDEX membership_user_tenant_unique")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
