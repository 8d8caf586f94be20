"""Activities of the case workflow: everything that touches the outside world."""

import asyncio
import hashlib
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from minio.error import S3Error
from temporalio import activity

from common.outbox import add_to_outbox
from common.settings import PlatformSettings
from common.storage import EvidenceStore
from contracts.events import (
    CaseClosed,
    CaseEscalated,
    CaseQueued,
    CaseRuled,
    Event,
    InsurerReminder,
    SettlementEscalated,
)
from evidence import VideoRejectedError, probe_video
from workflows.case.models import (
    EvidenceCheckInput,
    EvidenceCheckResult,
    ReminderBatch,
    SmsBatch,
)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


HEARTBEAT_INTERVAL_SECONDS = 5.0


@asynccontextmanager
async def _heartbeating() -> AsyncIterator[None]:
    """Heartbeat while the block runs, so a dead worker's activity is retried soon."""

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(HEARTBEAT_INTERVAL_SECONDS)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()


class CaseActivities:
    """Activities bound to the worker's outbox and evidence store.

    Every published event carries an id the workflow chose, so a retried activity
    writes the same event, which the outbox and the consumers' inboxes drop.
    """

    def __init__(
        self, settings: PlatformSettings, pool: asyncpg.Pool, evidence: EvidenceStore
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._evidence = evidence

    @activity.defn
    async def check_evidence(self, request: EvidenceCheckInput) -> EvidenceCheckResult:
        """Read the stored video back, compare its hash and check its container."""
        async with _heartbeating():
            return await self._check_evidence(request)

    async def _check_evidence(self, request: EvidenceCheckInput) -> EvidenceCheckResult:
        with tempfile.TemporaryDirectory(prefix="dingze-check-") as folder:
            path = Path(folder) / "video"
            try:
                await self._evidence.get_file(request.video.object_key, path)
            except S3Error as error:
                if error.code != "NoSuchKey":
                    raise
                return EvidenceCheckResult(
                    accepted=False,
                    reason=f"stored video {request.video.object_key} is missing",
                )
            actual = await asyncio.to_thread(_sha256_of, path)
            if actual != request.video.sha256:
                return EvidenceCheckResult(
                    accepted=False,
                    reason=(
                        f"stored video hash {actual} differs from "
                        f"{request.video.sha256}"
                    ),
                )
            try:
                await asyncio.to_thread(
                    probe_video, path, self._settings.video_limits()
                )
            except VideoRejectedError as error:
                return EvidenceCheckResult(accepted=False, reason=error.message)
        return EvidenceCheckResult(accepted=True)

    @activity.defn
    async def queue_for_officer(self, event: CaseQueued) -> None:
        await self._publish(event)

    @activity.defn
    async def publish_escalation(self, event: CaseEscalated) -> None:
        await self._publish(event)

    @activity.defn
    async def publish_ruling(self, event: CaseRuled) -> None:
        await self._publish(event)

    @activity.defn
    async def request_sms(self, batch: SmsBatch) -> None:
        await self._publish(*batch.messages)

    @activity.defn
    async def publish_case_closed(self, event: CaseClosed) -> None:
        await self._publish(event)

    @activity.defn
    async def remind_insurers(self, batch: ReminderBatch) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            for reminder in batch.reminders:
                topic = InsurerReminder.topic_for(reminder.insurer_code)
                await add_to_outbox(connection, self._settings, reminder, topic)

    @activity.defn
    async def publish_settlement_escalation(self, event: SettlementEscalated) -> None:
        await self._publish(event)

    async def _publish(self, *events: Event) -> None:
        """Write the events to the worker's outbox, from which the relay sends them.

        A retried activity writes the same event ids again, which the outbox skips.
        """
        async with self._pool.acquire() as connection, connection.transaction():
            for event in events:
                await add_to_outbox(connection, self._settings, event)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.check_evidence,
            self.queue_for_officer,
            self.publish_escalation,
            self.publish_ruling,
            self.request_sms,
            self.publish_case_closed,
            self.remind_insurers,
            self.publish_settlement_escalation,
        ]
