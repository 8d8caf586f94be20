"""Intake service: phones open cases and send their video here."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from common.db import create_pool
from common.http import install_common_handlers
from common.kafka import ensure_topics, make_broker
from common.lifecycle import consuming
from common.logging import configure_logging
from common.outbox import relaying
from common.storage import EvidenceStore
from contracts.events import (
    CaseClosed,
    CaseSubmitted,
    CustodyRecorded,
    EvidenceRejected,
    EvidenceResubmitted,
    SmsRequested,
)
from identity.party_access import OneTimeCodes, PartyTokens
from services.intake import access_api, api
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
                SmsRequested.topic,
                CaseClosed.topic,
                CustodyRecorded.topic,
                EvidenceRejected.topic,
                EvidenceResubmitted.topic,
            ],
        )
        pool = await create_pool(settings.database_url, "intake")
        broker = make_broker(settings, "intake")
        policy = settings.party_access_policy()
        cases = CaseStore(pool, settings)
        tokens = PartyTokens(policy)
        subscribe_intake_events(broker, settings, cases, tokens)
        app.state.runtime = IntakeRuntime(
            settings=settings,
            cases=cases,
            evidence=EvidenceStore(settings),
            broker=broker,
            party_tokens=tokens,
            party_codes=OneTimeCodes(pool, policy),
        )
        async with consuming(broker, pool), relaying(pool, broker, settings):
            yield

    app = FastAPI(title="Dingze intake", version="1", lifespan=lifespan)
    app.include_router(api.router)
    app.include_router(access_api.router)
    install_common_handlers(app, is_upload=lambda path: path.endswith("/video"))
    return app
