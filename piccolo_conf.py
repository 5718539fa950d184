from piccolo.conf.apps import AppRegistry

from app.db import engine_from_url
from app.settings import get_settings

DB = engine_from_url(get_settings().database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "app.accounts.piccolo_app",
        "tenants.piccolo_app",
        "app.audit.piccolo_app",
        "app.outreach.piccolo_app",
        "app.notifications.piccolo_app",
        "app.events.piccolo_app",
        "app.registry.piccolo_app",
        "app.city.piccolo_app",
        "app.feedback.piccolo_app",
        "app.undo.piccolo_app",
        "app.invitations.piccolo_app",
        "app.training.piccolo_app",
    ]
)
