from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-28T03:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one assignment per programme and organisation; one completion per person and event"


class RawTable(Table):
    pass


INDEXES = [
    ("training_assignment_unique", 'training_assignment ("programme", "tenant")'),
    ("training_completion_event_unique", 'training_completion ("participant", "event")'),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="training", description=DESCRIPTION)

    async def run():
        for name, target in INDEXES:
            await RawTable.raw(f"CREATE UNIQUE INDEX {name} ON {target}")

    async def run_backwards():
        for name, _target in INDEXES:
            await RawTable.raw(f"DROP INDEX {name}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
