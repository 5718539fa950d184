from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-27T23:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one row per credit code in a register; an organisation represents one enterprise or chamber"


class RawTable(Table):
    pass


INDEXES = [
    ("enterprise_credit_code_unique", 'enterprise ("tenant", "credit_code")'),
    ("chamber_credit_code_unique", 'chamber ("tenant", "credit_code")'),
    # NULLs are distinct in unique indexes on SQLite and PostgreSQL: unlinked rows do not clash.
    ("enterprise_committee_unique", 'enterprise ("committee")'),
    ("chamber_mediation_org_unique", 'chamber ("mediation_org")'),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def run():
        for name, target in INDEXES:
            await RawTable.raw(f"CREATE UNIQUE INDEX {name} ON {target}")

    async def run_backwards():
        for name, _target in INDEXES:
            await RawTable.raw(f"DROP INDEX {name}")

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
