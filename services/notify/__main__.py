from common.http import serve
from services.notify.app import create_app
from services.notify.settings import NotifySettings

settings = NotifySettings()
serve(create_app(settings), settings.notify_host, settings.notify_port)
