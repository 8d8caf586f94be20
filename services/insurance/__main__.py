from common.http import serve
from services.insurance.app import create_app
from services.insurance.settings import InsuranceSettings

settings = InsuranceSettings()
serve(create_app(settings), settings.insurance_host, settings.insurance_port)
