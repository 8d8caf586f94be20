import uvicorn

from services.liability.app import create_app
from services.liability.settings import LiabilitySettings

settings = LiabilitySettings()
uvicorn.run(
    create_app(settings),
    host=settings.liability_host,
    port=settings.liability_port,
    log_config=None,
)
