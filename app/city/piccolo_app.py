import os

from piccolo.conf.apps import AppConfig

from app.city.tables import Broadcast, BroadcastRead, BroadcastRecipient, CoverageSnapshot, ReportFigure, ReportMonth

APP_CONFIG = AppConfig(
    app_name="city",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[CoverageSnapshot, Broadcast, BroadcastRecipient, BroadcastRead, ReportFigure, ReportMonth],
    migration_dependencies=["tenants.piccolo_app", "app.accounts.piccolo_app"],
    commands=[],
)
