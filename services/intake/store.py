"""Intake's tables: cases as reported and the video each one carries."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

import asyncpg

from common.outbox import add_to_outbox
from common.sealing import Purpose, seal, unseal
from common.settings import PlatformSettings
from contracts.case import CaseDetails, EligibilityAnswers, StoredEvidence
from contracts.events import (
    CaseSubmitted,
    Event,
    EvidenceRejected,
    EvidenceResubmitted,
    SmsRequested,
)
from services.intake.custody import CustodyEntry, append_custody
from services.intake.eligibility import EligibilityDecision


@dataclass(frozen=True)
class StoredCase:
    details: CaseDetails
    status: str
    trace_id: str
    on_scene: EligibilityDecision | None = None
    resubmission: EvidenceRejected | None = None


@dataclass(frozen=True)
class VideoConflict:
    """Why a video was not recorded: the case moved on, or another party's video."""

    reason: Literal["case_not_open", "other_uploader"]
    uploader: str | None = None


def seal_details(case: CaseDetails) -> str:
    """Return the case's details sealed, stored as a JSON string in ``details``.

    The details carry the parties' names, phone numbers and plates.
    """
    return seal(case.model_dump_json(), Purpose.CASE_DETAILS)


def open_details(stored: object) -> CaseDetails:
    """Read sealed details, or the plain object of a case stored before sealing."""
    if isinstance(stored, str):
        return CaseDetails.model_validate(
            json.loads(unseal(stored, Purpose.CASE_DETAILS))
        )
    return CaseDetails.model_validate(stored)


class CaseStore:
    def __init__(self, pool: asyncpg.Pool, settings: PlatformSettings) -> None:
        self._pool = pool
        self._settings = settings

    async def create(
        self,
        case: CaseDetails,
        trace_id: str,
        answers: EligibilityAnswers,
        decision: EligibilityDecision,
    ) -> str:
        """Store a new case as a draft, or as sent on scene when it is ineligible."""
        status = "draft" if decision.eligible else "on_scene"
        await self._pool.execute(
            "INSERT INTO cases"
            " (case_id, status, details, trace_id, eligibility, on_scene_reasons)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            case.case_id,
            status,
            seal_details(case),
            trace_id,
            answers.model_dump(mode="json"),
            None if decision.eligible else decision.model_dump(mode="json"),
        )
        return status

    async def get(self, case_id: UUID) -> StoredCase | None:
        row = await self._pool.fetchrow(
            "SELECT details, status, trace_id, on_scene_reasons, resubmission"
            " FROM cases WHERE case_id = $1",
            case_id,
        )
        if row is None:
            return None
        reasons = row["on_scene_reasons"]
        return StoredCase(
            details=open_details(row["details"]),
            status=row["status"],
            trace_id=row["trace_id"],
            on_scene=None
            if reasons is None
            else EligibilityDecision.model_validate(reasons),
            resubmission=None
            if row["resubmission"] is None
            else EvidenceRejected.model_validate(row["resubmission"]),
        )

    async def save_video_if_draft(
        self, case_id: UUID, video: StoredEvidence, uploaded: CustodyEntry
    ) -> VideoConflict | None:
        """Record the case's video unless the case moved on or the video is taken.

        A draft case keeps one scene video, which only its uploader (the custody
        entry's actor) may replace. The row lock orders this against ``submit``,
        so a submission never goes out with one video while intake records
        another. The custody entry of the upload is written in the same
        transaction. Returns why nothing was recorded, or None.
        """
        return await self._save_video(
            case_id, video, uploaded, expected_status="draft", new_status="draft"
        )

    async def video_uploader(self, case_id: UUID) -> str | None:
        """Return who uploaded the video of a draft case, if it has one."""
        uploader: str | None = await self._pool.fetchval(
            "SELECT videos.uploaded_by FROM videos"
            " JOIN cases USING (case_id)"
            " WHERE case_id = $1 AND cases.status = 'draft'",
            case_id,
        )
        return uploader

    async def save_replacement(
        self,
        case_id: UUID,
        video: StoredEvidence,
        uploaded: CustodyEntry,
        announcement: EvidenceResubmitted,
    ) -> bool:
        """Record a replacement video if the case waits for one, and mark it submitted.

        The announcement goes to the outbox in the same transaction. Returns False
        when the case no longer waits for a replacement.
        """
        conflict = await self._save_video(
            case_id,
            video,
            uploaded,
            expected_status="resubmission_requested",
            new_status="submitted",
            announcement=announcement,
        )
        return conflict is None

    async def _save_video(
        self,
        case_id: UUID,
        video: StoredEvidence,
        uploaded: CustodyEntry,
        *,
        expected_status: str,
        new_status: str,
        announcement: Event | None = None,
    ) -> VideoConflict | None:
        async with self._pool.acquire() as connection, connection.transaction():
            status = await connection.fetchval(
                "SELECT status FROM cases WHERE case_id = $1 FOR UPDATE", case_id
            )
            if status != expected_status:
                return VideoConflict("case_not_open")
            # A rejected video may be replaced by anyone, a draft's video only by its
            # uploader. A video recorded before uploaders were kept has none.
            uploader = await connection.fetchval(
                "SELECT uploaded_by FROM videos WHERE case_id = $1", case_id
            )
            if status == "draft" and uploader not in (None, uploaded.actor):
                return VideoConflict("other_uploader", uploader)
            await connection.execute(
                "UPDATE cases SET status = $2 WHERE case_id = $1", case_id, new_status
            )
            await append_custody(connection, uploaded)
            if announcement is not None:
                await add_to_outbox(connection, self._settings, announcement)
            await connection.execute(
                """
            INSERT INTO videos
                (case_id, object_key, sha256, size_bytes, content_type, facts,
                 uploaded_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (case_id) DO UPDATE SET
                object_key = excluded.object_key,
                sha256 = excluded.sha256,
                size_bytes = excluded.size_bytes,
                content_type = excluded.content_type,
                facts = excluded.facts,
                uploaded_by = excluded.uploaded_by,
                uploaded_at = now()
                """,
                case_id,
                video.object_key,
                video.sha256,
                video.size_bytes,
                video.content_type,
                video.facts.model_dump(mode="json"),
                uploaded.actor,
            )
        return None

    async def get_video(self, case_id: UUID) -> StoredEvidence | None:
        row = await self._pool.fetchrow(
            "SELECT object_key, sha256, size_bytes, content_type, facts"
            " FROM videos WHERE case_id = $1",
            case_id,
        )
        return None if row is None else StoredEvidence.model_validate(dict(row))

    async def queue_event(self, event: Event) -> None:
        """Write an event that no state change of intake goes with to the outbox."""
        async with self._pool.acquire() as connection, connection.transaction():
            await add_to_outbox(connection, self._settings, event)

    async def submit(
        self, case_id: UUID, announce: Callable[[StoredEvidence], CaseSubmitted]
    ) -> StoredEvidence | None:
        """Mark the case submitted and queue its event; None if it has no video.

        From here on the video is final: an upload finishing at the same moment waits
        for the row lock and then finds the case submitted. The event goes to the
        outbox in the same transaction, so a submitted case always reaches Kafka.
        """
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute(
                "SELECT 1 FROM cases WHERE case_id = $1 FOR UPDATE", case_id
            )
            row = await connection.fetchrow(
                "SELECT object_key, sha256, size_bytes, content_type, facts"
                " FROM videos WHERE case_id = $1",
                case_id,
            )
            if row is None:
                return None
            video = StoredEvidence.model_validate(dict(row))
            await connection.execute(
                "UPDATE cases SET status = 'submitted',"
                " submitted_at = coalesce(submitted_at, now())"
                " WHERE case_id = $1 AND status = 'draft'",
                case_id,
            )
            await add_to_outbox(connection, self._settings, announce(video))
        return video

    async def request_resubmission(
        self, event: EvidenceRejected, messages: list[SmsRequested]
    ) -> bool:
        """Let the case take a replacement video and queue the parties' messages.

        A redelivered or older attempt's event changes nothing and queues nothing.
        Returns whether the case changed.
        """
        async with self._pool.acquire() as connection, connection.transaction():
            result = await connection.execute(
                """
                UPDATE cases SET status = 'resubmission_requested', resubmission = $2
                WHERE case_id = $1 AND status = 'submitted'
                  AND coalesce((resubmission ->> 'attempt')::int, 0) < $3
                """,
                event.case_id,
                event.model_dump(mode="json"),
                event.attempt,
            )
            if result == "UPDATE 0":
                return False
            for message in messages:
                await add_to_outbox(connection, self._settings, message)
        return True

    async def send_on_scene(self, case_id: UUID, decision: EligibilityDecision) -> None:
        """Record that the case left the remote process for on-scene handling."""
        await self._pool.execute(
            "UPDATE cases SET status = 'on_scene', on_scene_reasons = $2"
            " WHERE case_id = $1 AND status <> 'on_scene'",
            case_id,
            decision.model_dump(mode="json"),
        )

    async def append_custody(self, entry: CustodyEntry) -> None:
        await append_custody(self._pool, entry)

    async def set_reporter_badge(self, case_id: UUID, badge_number: str) -> None:
        await self._pool.execute(
            "UPDATE cases SET reporter_badge = $2 WHERE case_id = $1",
            case_id,
            badge_number,
        )

    async def reporter_badge(self, case_id: UUID) -> str | None:
        badge: str | None = await self._pool.fetchval(
            "SELECT reporter_badge FROM cases WHERE case_id = $1", case_id
        )
        return badge
