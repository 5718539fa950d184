import os

from piccolo.conf.apps import AppConfig

from app.invitations.tables import Invitation

APP_CONFIG = AppConfig(
    app_name="invitations",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Invitation],
    migration_dependencies=["app.accounts.piccolo_app", "tenants.piccolo_app"],
    commands=[],
)
