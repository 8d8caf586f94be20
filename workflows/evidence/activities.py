"""The evidence checks of the case workflow: hashing, decoding and thumbnails.

They read whole videos and decode frames, so the evidence worker runs them on a task
queue of their own (``contracts.workflow.evidence_task_queue``), with decoding in
a pool of processes. The case worker registers them too, on the case queue, for
cases that started before the checks moved and still schedule them there.
"""

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

from common.settings import PlatformSettings
from common.storage import EvidenceStore
from contracts.custody import CustodyAction
from contracts.events import CustodyRecorded
from evidence import VideoRejectedError, probe_video
from evidence.examine import examine_video
from workflows.case.activities import WORKER_ACTOR, publish_events
from workflows.case.models import (
    EvidenceCheckInput,
    EvidenceCheckResult,
    ExamineEvidenceInput,
    ExamineEvidenceResult,
    HashEvidenceInput,
    HashEvidenceResult,
)
from workflows.evidence.decoding import Decoder

log = structlog.get_logger(__name__)
HEARTBEAT_INTERVAL_SECONDS = 5.0


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


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


class EvidenceActivities:
    """Evidence checks bound to the case worker's outbox and the evidence store.

    ``decoder`` runs the CPU-bound examination. Custody events carry ids that the
    workflow chose or that follow from the stored bytes, so a retried activity
    writes the same events, which the outbox drops.
    """

    def __init__(
        self,
        settings: PlatformSettings,
        pool: asyncpg.Pool,
        evidence: EvidenceStore,
        decoder: Decoder,
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._evidence = evidence
        self._decoder = decoder

    @activity.defn
    async def check_evidence(self, request: EvidenceCheckInput) -> EvidenceCheckResult:
        """Read the stored video back, compare its hash and check its container.

        Only cases started before the checks grew hashing and examination run it.
        """
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
        await publish_events(
            self._pool,
            self._settings,
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
                examination = await self._decoder.run(
                    examine_video,
                    path,
                    request.case.accident_at,
                    request.case.location,
                    self._settings.evidence_rules(),
                )
            thumbnails = await self._store_thumbnails(request, examination.thumbnails)
        return ExamineEvidenceResult(
            facts=examination.facts,
            findings=examination.findings,
            thumbnails=thumbnails,
            thumbnail_seconds=examination.thumbnail_seconds,
        )

    async def _store_thumbnails(
        self, request: ExamineEvidenceInput, images: list[bytes]
    ) -> list[str]:
        """Store the thumbnails at once, then record them in custody in one
        transaction.
        """
        video = request.video
        keys = [
            f"{video.object_key}-thumbnail-{index}.jpg" for index in range(len(images))
        ]
        digests = [hashlib.sha256(image).hexdigest() for image in images]
        await asyncio.gather(
            *(
                self._evidence.put_bytes(key, image, "image/jpeg", sha256)
                for key, image, sha256 in zip(keys, images, digests, strict=True)
            )
        )
        await publish_events(
            self._pool,
            self._settings,
            *(
                CustodyRecorded(
                    # The id follows from the video and the thumbnail, so a retry
                    # that makes the same thumbnail records it once.
                    event_id=uuid.uuid5(request.case.case_id, f"{key}:{sha256}"),
                    case_id=request.case.case_id,
                    trace_id=request.trace_id,
                    action=CustodyAction.DERIVED,
                    object_key=key,
                    actor=WORKER_ACTOR,
                    sha256=sha256,
                    size_bytes=len(image),
                    detail=f"keyframe thumbnail {index + 1} of {video.object_key}",
                )
                for index, (key, image, sha256) in enumerate(
                    zip(keys, images, digests, strict=True)
                )
            ),
        )
        return keys

    def all(self) -> list[Callable[..., Any]]:
        return [self.check_evidence, self.hash_evidence, self.examine_evidence]
