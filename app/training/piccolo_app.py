import os

from piccolo.conf.apps import AppConfig

from app.training.tables import (
    Assignment,
    Completion,
    GuidanceArea,
    Material,
    Participant,
    Programme,
    TrainingSession,
)

APP_CONFIG = AppConfig(
    app_name="training",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Programme, Material, Assignment, Participant, Completion, TrainingSession, GuidanceArea],
    migration_dependencies=["tenants.piccolo_app", "app.accounts.piccolo_app", "app.events.piccolo_app"],
    commands=[],
)
