import os

from piccolo.conf.apps import AppConfig

from app.undo.tables import RemovedRow

APP_CONFIG = AppConfig(
    app_name="undo",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[RemovedRow],
    migration_dependencies=["tenants.piccolo_app", "app.accounts.piccolo_app"],
    commands=[],
)
