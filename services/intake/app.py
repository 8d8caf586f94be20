"""Intake service: phones open cases and send their video here."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from common.db import create_pool
from common.http import install_common_handlers
from common.kafka import ensure_topics, make_broker
from common.lifecycle import consuming
from common.logging import configure_logging
from common.storage import EvidenceStore
from contracts.events import (
    CaseClosed,
    CaseSubmitted,
    CustodyRecorded,
    EvidenceRejected,
    EvidenceResubmitted,
)
from services.intake.api import router
from services.intake.handlers import subscribe_intake_events
from services.intake.runtime import IntakeRuntime
from services.intake.settings import IntakeSettings
from services.intake.store import CaseStore


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    configure_logging("intake", settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(
            settings,
            [
                CaseSubmitted.topic,
                CaseClosed.topic,
                CustodyRecorded.topic,
                EvidenceRejected.topic,
                EvidenceResubmitted.topic,
            ],
        )
        pool = await create_pool(settings.database_url, "intake")
        broker = make_broker(settings, "intake")
        cases = CaseStore(pool)
        subscribe_intake_events(broker, settings, cases)
        app.state.runtime = IntakeRuntime(
            settings=settings,
            cases=cases,
            evidence=EvidenceStore(settings),
            broker=broker,
        )
        async with consuming(broker, pool):
            yield

    app = FastAPI(title="Dingze intake", version="1", lifespan=lifespan)
    app.include_router(router)
    install_common_handlers(app, is_upload=lambda path: path.endswith("/video"))
    return app
