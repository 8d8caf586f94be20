"""Intake service: phones open cases and send their video here."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from common.db import create_pool
from common.http import install_common_handlers
from common.kafka import ensure_topics, make_broker
from common.lifecycle import consuming
from common.logging import configure_logging
from common.multipart import MultipartStorage
from common.outbox import relaying
from common.storage import EvidenceStore
from common.temporal import connect_temporal
from contracts.events import (
    CaseClosed,
    CaseSubmitted,
    CustodyRecorded,
    EvidenceRejected,
    EvidenceResubmitted,
    SealedSettlementConfirmed,
    SmsRequested,
)
from documents.archive import DocumentArchive
from identity.attempts import AttemptGuard
from identity.authenticator import build_authenticator
from identity.party_access import OneTimeCodes, PartyTokens
from identity.revocations import RevocationList
from services.intake import (
    access_api,
    api,
    phone_api,
    ruling_api,
    settlement_api,
    uploads_api,
)
from services.intake.handlers import subscribe_intake_events
from services.intake.runtime import IntakeRuntime
from services.intake.settings import IntakeSettings
from services.intake.settlement_store import SettlementStore
from services.intake.store import CaseStore
from services.intake.upload_store import UploadStore

log = structlog.get_logger(__name__)


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    configure_logging("intake", settings.log_level)
    authenticator = build_authenticator(settings)

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
                SealedSettlementConfirmed.topic,
            ],
        )
        pool = await create_pool(settings.database_url, "intake")
        broker = make_broker(settings, "intake")
        policy = settings.party_access_policy()
        evidence = EvidenceStore(settings)
        cases = CaseStore(pool, settings)
        tokens = PartyTokens(policy)
        revocations = RevocationList(pool)
        authenticator.revocations = revocations
        subscribe_intake_events(broker, settings, cases, tokens)
        multipart = MultipartStorage(settings)
        if settings.intake_manage_bucket_cors and await multipart.allow_origin(
            settings.public_origin()
        ):
            log.info("bucket cors origin added", origin=settings.public_origin())
        app.state.runtime = IntakeRuntime(
            settings=settings,
            cases=cases,
            evidence=evidence,
            broker=broker,
            party_tokens=tokens,
            party_codes=OneTimeCodes(pool, policy),
            revocations=revocations,
            code_requests=AttemptGuard(
                pool, "party_code_request", *settings.code_request_limits()
            ),
            code_entries=AttemptGuard(
                pool, "party_code_entry", *settings.code_failure_limits()
            ),
            multipart=multipart,
            uploads=UploadStore(pool),
            settlements=SettlementStore(pool, settings),
            staff_verifier=authenticator,
            temporal=await connect_temporal(settings),
            documents=DocumentArchive(evidence),
        )
        async with consuming(broker, pool), relaying(pool, broker, settings):
            yield
        await authenticator.aclose()

    app = FastAPI(title="Dingze intake", version="1", lifespan=lifespan)
    app.include_router(api.router)
    app.include_router(access_api.router)
    app.include_router(ruling_api.router)
    app.include_router(settlement_api.router)
    app.include_router(uploads_api.router)
    app.include_router(phone_api.router)
    app.mount("/phone", phone_api.phone_page(), name="phone")
    install_common_handlers(app, is_upload=lambda path: path.endswith("/video"))
    return app
