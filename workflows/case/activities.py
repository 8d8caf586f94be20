"""Activities of the case workflow: everything that touches the outside world."""

import asyncio
import hashlib
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from minio.error import S3Error
from temporalio import activity

from common.outbox import add_to_outbox
from common.settings import PlatformSettings
from common.storage import EvidenceStore
from contracts.custody import CustodyAction
from contracts.events import (
    CaseClosed,
    CaseEscalated,
    CaseQueued,
    CaseRuled,
    CustodyRecorded,
    Event,
    EvidenceRejected,
    InsurerReminder,
    SettlementEscalated,
)
from evidence import VideoRejectedError, probe_video
from evidence.examine import examine_video
from workflows.case.models import (
    EvidenceCheckInput,
    EvidenceCheckResult,
    ExamineEvidenceInput,
    ExamineEvidenceResult,
    HashEvidenceInput,
    HashEvidenceResult,
    ReminderBatch,
    SmsBatch,
)

log = structlog.get_logger(__name__)
# The custody entries of the case worker name it as the actor.
WORKER_ACTOR = "case-worker"


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


HEARTBEAT_INTERVAL_SECONDS = 5.0


@asynccontextmanager
async def _heartbeating(progress: list[int] | None = None) -> AsyncIterator[None]:
    """Heartbeat while the block runs, so a dead worker's activity is retried soon.

    Each heartbeat carries ``progress[0]`` (bytes read so far) when given.
    """

    async def beat() -> None:
        while True:
            if progress is None:
                activity.heartbeat()
            else:
                activity.heartbeat(progress[0])
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
    async def hash_evidence(self, request: HashEvidenceInput) -> HashEvidenceResult:
        """Stream the stored video through SHA-256 and record the hash in custody."""
        progress = [0]

        def read(size: int) -> None:
            progress[0] = size

        key = request.video.object_key
        async with _heartbeating(progress):
            try:
                sha256, size = await self._evidence.sha256_of(key, read)
            except S3Error as error:
                if error.code != "NoSuchKey":
                    raise
                log.warning("stored video missing", object_key=key)
                return HashEvidenceResult(missing=True)
        await self._publish(
            CustodyRecorded(
                event_id=request.custody_event_id,
                case_id=request.case_id,
                trace_id=request.trace_id,
                action=CustodyAction.HASHED,
                object_key=key,
                actor=WORKER_ACTOR,
                sha256=sha256,
                size_bytes=size,
                detail="read back in full by the evidence checks",
            ),
        )
        return HashEvidenceResult(sha256=sha256, size_bytes=size)

    @activity.defn
    async def examine_evidence(
        self, request: ExamineEvidenceInput
    ) -> ExamineEvidenceResult:
        """Check the video's container, time, place and quality; store thumbnails."""
        async with _heartbeating():
            with tempfile.TemporaryDirectory(prefix="dingze-examine-") as folder:
                path = Path(folder) / "video"
                await self._evidence.get_file(request.video.object_key, path)
                examination = await asyncio.to_thread(
                    examine_video,
                    path,
                    request.case.accident_at,
                    request.case.location,
                    self._settings.evidence_rules(),
                )
            thumbnails = [
                await self._store_thumbnail(request, index, image)
                for index, image in enumerate(examination.thumbnails)
            ]
        return ExamineEvidenceResult(
            facts=examination.facts,
            findings=examination.findings,
            thumbnails=thumbnails,
            thumbnail_seconds=examination.thumbnail_seconds,
        )

    async def _store_thumbnail(
        self, request: ExamineEvidenceInput, index: int, image: bytes
    ) -> str:
        video = request.video
        key = f"{video.object_key}-thumbnail-{index}.jpg"
        sha256 = hashlib.sha256(image).hexdigest()
        await self._evidence.put_bytes(key, image, "image/jpeg", sha256)
        # The id follows from the video and the thumbnail, so a retry that makes
        # the same thumbnail records it once.
        await self._publish(
            CustodyRecorded(
                event_id=uuid.uuid5(request.case.case_id, f"{key}:{sha256}"),
                case_id=request.case.case_id,
                trace_id=request.trace_id,
                action=CustodyAction.DERIVED,
                object_key=key,
                actor=WORKER_ACTOR,
                sha256=sha256,
                size_bytes=len(image),
                detail=f"keyframe thumbnail {index + 1} of {video.object_key}",
            ),
        )
        return key

    @activity.defn
    async def request_resubmission(self, event: EvidenceRejected) -> None:
        await self._publish(event)

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
            self.hash_evidence,
            self.examine_evidence,
            self.request_resubmission,
            self.queue_for_officer,
            self.publish_escalation,
            self.publish_ruling,
            self.request_sms,
            self.publish_case_closed,
            self.remind_insurers,
            self.publish_settlement_escalation,
        ]
