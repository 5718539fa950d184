from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-27T23:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one active attendee per phone and event; registrations by event and status"


class RawTable(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    async def run():
        # The backstop behind the duplicate check made under the event's lock: the same
        # phone cannot hold two active places on one event, whatever races.
        await RawTable.raw(
            'CREATE UNIQUE INDEX attendee_event_phone_active ON attendee ("event", "phone") '
            "WHERE active AND phone <> ''"
        )
        await RawTable.raw('CREATE INDEX registration_event_status ON registration ("event", "status", "id")')

    async def run_backwards():
        await RawTable.raw("DROP INDEX attendee_event_phone_active")
        await RawTable.raw("DROP INDEX registration_event_status")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
