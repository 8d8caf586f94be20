import uvicorn

from services.intake.app import create_app
from services.intake.settings import IntakeSettings

settings = IntakeSettings()
uvicorn.run(
    create_app(settings),
    host=settings.intake_host,
    port=settings.intake_port,
    log_config=None,
)
