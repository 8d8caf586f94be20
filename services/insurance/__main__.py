import uvicorn

from services.insurance.app import create_app
from services.insurance.settings import InsuranceSettings

settings = InsuranceSettings()
uvicorn.run(
    create_app(settings),
    host=settings.insurance_host,
    port=settings.insurance_port,
    log_config=None,
)
