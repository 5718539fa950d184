from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-27T23:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one snapshot per month, district and measure; one recipient row and one receipt each"


class RawTable(Table):
    pass


INDEXES = [
    # The snapshot job inserts with ON CONFLICT on exactly these columns.
    ("coverage_snapshot_unique", 'coverage_snapshot ("month", "district", "measure")'),
    ("broadcast_recipient_unique", 'broadcast_recipient ("broadcast", "tenant")'),
    # Quoted: "user" is a reserved word in PostgreSQL.
    ("broadcast_read_unique", 'broadcast_read ("broadcast", "tenant", "user")'),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="city", description=DESCRIPTION)

    async def run():
        for name, target in INDEXES:
            await RawTable.raw(f"CREATE UNIQUE INDEX {name} ON {target}")

    async def run_backwards():
        for name, _target in INDEXES:
            await RawTable.raw(f"DROP INDEX {name}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
