import os

from piccolo.conf.apps import AppConfig

from app.registry.tables import Chamber, Enterprise, RegistryUpload

APP_CONFIG = AppConfig(
    app_name="registry",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Enterprise, Chamber, RegistryUpload],
    migration_dependencies=["tenants.piccolo_app", "app.accounts.piccolo_app"],
    commands=[],
)
