import os

from piccolo.conf.apps import AppConfig

from app.events.tables import Attendee, Event, Registration

APP_CONFIG = AppConfig(
    app_name="events",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Event, Registration, Attendee],
    migration_dependencies=["tenants.piccolo_app", "app.accounts.piccolo_app"],
    commands=[],
)
