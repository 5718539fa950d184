import os

from piccolo.conf.apps import AppConfig

from app.accounts.tables import LoginThrottle, Session, User

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[User, Session, LoginThrottle],
    migration_dependencies=[],
    commands=[],
)
