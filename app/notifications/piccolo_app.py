import os

from piccolo.conf.apps import AppConfig

from app.notifications.tables import Notification

APP_CONFIG = AppConfig(
    app_name="notifications",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Notification],
    migration_dependencies=["tenants.piccolo_app", "app.accounts.piccolo_app"],
    commands=[],
)
