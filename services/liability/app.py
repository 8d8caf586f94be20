"""Liability service: officers at the remote center rule on queued cases."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from common.db import create_pool
from common.http import install_common_handlers
from common.kafka import ensure_topics, make_broker
from common.lifecycle import consuming
from common.logging import configure_logging
from common.storage import EvidenceStore
from common.temporal import connect_temporal
from contracts.events import (
    CaseClosed,
    CaseEscalated,
    CaseQueued,
    CaseReconsiderationRequested,
    CaseRuled,
    CustodyRecorded,
)
from decision_support import load_accident_types
from documents.archive import DocumentArchive
from documents.keys import load_public_key, public_key_path
from identity.api import router as identity_router
from identity.attempts import AttemptGuard
from identity.authenticator import build_authenticator
from identity.revocations import RevocationList
from services.liability.accident_types_api import router as accident_types_router
from services.liability.api import router
from services.liability.audit import AuditLog
from services.liability.case_documents_api import router as case_documents_router
from services.liability.claims import ClaimStore
from services.liability.documents_api import router as documents_router
from services.liability.handlers import subscribe_queue, subscribe_reconsiderations
from services.liability.reconsideration_api import (
    router as reconsideration_router,
)
from services.liability.reconsiderations import ReconsiderationStore
from services.liability.runtime import LiabilityRuntime
from services.liability.settings import LiabilitySettings
from services.liability.store import QueueStore
from services.liability.supervision import router as supervision_router

WORKBENCH_DIR = Path(__file__).resolve().parent / "workbench"


def create_app(settings: LiabilitySettings | None = None) -> FastAPI:
    settings = settings or LiabilitySettings()
    configure_logging("liability", settings.log_level)
    # A broken table or a missing key stops the service at start-up.
    accident_types = load_accident_types(settings.accident_types_file)
    public_key = load_public_key(public_key_path(settings.document_key_file))
    authenticator = build_authenticator(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(
            settings,
            [
                CaseQueued.topic,
                CaseEscalated.topic,
                CaseRuled.topic,
                CaseClosed.topic,
                CaseReconsiderationRequested.topic,
                CustodyRecorded.topic,
            ],
        )
        pool = await create_pool(settings.database_url, "liability")
        queue = QueueStore(pool)
        broker = make_broker(settings, "liability")
        subscribe_queue(broker, settings, queue)
        reconsiderations = ReconsiderationStore(pool)
        subscribe_reconsiderations(broker, settings, reconsiderations)
        evidence = EvidenceStore(settings)
        audit = AuditLog(pool)
        app.state.sign_in_recorder = audit.record_sign_in
        app.state.sign_out_recorder = audit.record_sign_out
        authenticator.revocations = RevocationList(pool)
        app.state.sign_in_guard = AttemptGuard(
            pool, "staff_sign_in", *settings.sign_in_limits()
        )
        app.state.runtime = LiabilityRuntime(
            settings=settings,
            queue=queue,
            claims=ClaimStore(pool),
            audit=audit,
            evidence=evidence,
            temporal=await connect_temporal(settings),
            accident_types=accident_types,
            documents=DocumentArchive(evidence),
            document_public_key=public_key,
            reconsiderations=reconsiderations,
            broker=broker,
        )
        async with consuming(broker, pool):
            yield
        await authenticator.aclose()

    app = FastAPI(title="Dingze liability center", version="1", lifespan=lifespan)
    app.state.authenticator = authenticator
    app.include_router(identity_router)
    app.include_router(router)
    app.include_router(case_documents_router)
    app.include_router(accident_types_router)
    app.include_router(documents_router)
    app.include_router(reconsideration_router)
    app.include_router(supervision_router)
    # The officers' workbench: static files that call the API above.
    app.mount("/workbench", StaticFiles(directory=WORKBENCH_DIR, html=True))

    @app.get("/", include_in_schema=False)
    async def to_workbench() -> RedirectResponse:
        return RedirectResponse("/workbench/")

    install_common_handlers(app)
    return app
