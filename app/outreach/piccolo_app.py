import os

from piccolo.conf.apps import AppConfig

from app.outreach.tables import CounterFlush, DailyCount, Hotline, InfoCard, OutreachEntry

APP_CONFIG = AppConfig(
    app_name="outreach",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Hotline, InfoCard, OutreachEntry, DailyCount, CounterFlush],
    migration_dependencies=["tenants.piccolo_app", "app.accounts.piccolo_app"],
    commands=[],
)
