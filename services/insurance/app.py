"""Insurance service: hands rulings to insurers and relays their claims to the case."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from common.db import create_pool
from common.http import install_common_handlers
from common.kafka import ensure_topics, make_broker
from common.lifecycle import consuming
from common.logging import configure_logging
from common.outbox import relaying
from common.temporal import connect_temporal
from contracts.events import (
    CaseReconsidered,
    CaseRuled,
    InsurerReminder,
    SealedSettlementConfirmed,
    SettlementConfirmed,
    SettlementEscalated,
)
from services.insurance.claims_api import CLAIM_EVENTS
from services.insurance.claims_api import router as claims_router
from services.insurance.contracts_api import router as contracts_router
from services.insurance.handlers import subscribe_insurance
from services.insurance.settings import InsuranceSettings
from services.insurance.store import InsuranceStore
from services.insurance.webhooks import dispatching


def create_app(settings: InsuranceSettings | None = None) -> FastAPI:
    settings = settings or InsuranceSettings()
    configure_logging("insurance", settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(
            settings,
            [
                CaseRuled.topic,
                CaseReconsidered.topic,
                SealedSettlementConfirmed.topic,
                SettlementConfirmed.topic,
                SettlementEscalated.topic,
                InsurerReminder.request_topic,
                *(model.topic for model in CLAIM_EVENTS.values()),
            ],
        )
        pool = await create_pool(settings.database_url, "insurance")
        broker = make_broker(settings, "insurance")
        store = InsuranceStore(pool, settings)
        app.state.store = store
        subscribe_insurance(broker, settings, store, await connect_temporal(settings))
        async with (
            consuming(broker, pool),
            relaying(pool, broker, settings),
            dispatching(
                pool,
                settings.webhook_policy(),
                settings.insurance_webhook_poll_seconds,
                settings.insurance_webhook_ca_file,
            ),
        ):
            yield

    app = FastAPI(title="Dingze insurance", version="1", lifespan=lifespan)
    app.state.kafka_bootstrap = settings.kafka_bootstrap
    app.include_router(contracts_router)
    app.include_router(claims_router)
    install_common_handlers(app)
    return app
