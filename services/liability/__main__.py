from common.http import serve
from services.liability.app import create_app
from services.liability.settings import LiabilitySettings

settings = LiabilitySettings()
serve(create_app(settings), settings.liability_host, settings.liability_port)
