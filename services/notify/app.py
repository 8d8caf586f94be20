"""Notify service: text messages to the parties."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from fastapi import FastAPI

from common.db import create_pool
from common.http import install_common_handlers
from common.kafka import ensure_topics, make_broker
from common.lifecycle import consuming
from common.logging import configure_logging
from contracts.events import SmsRequested
from identity.authenticator import build_authenticator
from identity.revocations import RevocationList
from services.notify.api import router
from services.notify.handlers import subscribe_sms
from services.notify.providers import make_provider
from services.notify.sender import DeferredSender, sending_deferred
from services.notify.settings import NotifySettings
from services.notify.store import MessageStore
from services.notify.templates import check_templates


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    configure_logging("notify", settings.log_level)
    authenticator = build_authenticator(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(settings, [SmsRequested.topic])
        pool = await create_pool(settings.database_url, "notify")
        app.state.messages = MessageStore(pool)
        authenticator.revocations = RevocationList(pool)
        broker = make_broker(settings, "notify")
        async with httpx.AsyncClient(timeout=10.0) as http:
            provider = make_provider(settings, pool, http)
            subscribe_sms(broker, settings, pool, provider)
            sender = DeferredSender(
                pool,
                provider,
                limit=settings.notify_rate_per_number,
                window=timedelta(seconds=settings.notify_rate_window_seconds),
                poll_seconds=settings.notify_deferred_poll_seconds,
            )
            async with consuming(broker, pool), sending_deferred(sender):
                yield
        await authenticator.aclose()

    # A template with a variable no sender supplies fails here, before its first send.
    check_templates()
    app = FastAPI(title="Dingze notify", version="1", lifespan=lifespan)
    app.state.authenticator = authenticator
    app.state.receipt_secret = settings.notify_receipt_secret.get_secret_value()
    app.include_router(router)
    install_common_handlers(app)
    return app
