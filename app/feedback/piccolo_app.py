import os

from piccolo.conf.apps import AppConfig

from app.feedback.tables import FeedbackAccess, FeedbackEvent, FeedbackItem, FeedbackSettings

APP_CONFIG = AppConfig(
    app_name="feedback",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[FeedbackItem, FeedbackAccess, FeedbackEvent, FeedbackSettings],
    migration_dependencies=["tenants.piccolo_app", "app.accounts.piccolo_app"],
    commands=[],
)
