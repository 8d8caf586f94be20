import uvicorn

from services.notify.app import create_app
from services.notify.settings import NotifySettings

settings = NotifySettings()
uvicorn.run(
    create_app(settings),
    host=settings.notify_host,
    port=settings.notify_port,
    log_config=None,
)
