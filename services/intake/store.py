"""Intake's tables: cases as reported and the video each one carries."""

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from contracts.case import CaseDetails, StoredEvidence


@dataclass(frozen=True)
class StoredCase:
    details: CaseDetails
    status: str
    trace_id: str


class CaseStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(self, case: CaseDetails, trace_id: str) -> None:
        await self._pool.execute(
            "INSERT INTO cases (case_id, status, details, trace_id)"
            " VALUES ($1, 'draft', $2, $3)",
            case.case_id,
            case.model_dump(mode="json"),
            trace_id,
        )

    async def get(self, case_id: UUID) -> StoredCase | None:
        row = await self._pool.fetchrow(
            "SELECT details, status, trace_id FROM cases WHERE case_id = $1", case_id
        )
        if row is None:
            return None
        return StoredCase(
            details=CaseDetails.model_validate(row["details"]),
            status=row["status"],
            trace_id=row["trace_id"],
        )

    async def save_video(self, case_id: UUID, video: StoredEvidence) -> None:
        await self._pool.execute(
            """
            INSERT INTO videos
                (case_id, object_key, sha256, size_bytes, content_type, facts)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (case_id) DO UPDATE SET
                object_key = excluded.object_key,
                sha256 = excluded.sha256,
                size_bytes = excluded.size_bytes,
                content_type = excluded.content_type,
                facts = excluded.facts,
                uploaded_at = now()
            """,
            case_id,
            video.object_key,
            video.sha256,
            video.size_bytes,
            video.content_type,
            video.facts.model_dump(mode="json"),
        )

    async def get_video(self, case_id: UUID) -> StoredEvidence | None:
        row = await self._pool.fetchrow(
            "SELECT object_key, sha256, size_bytes, content_type, facts"
            " FROM videos WHERE case_id = $1",
            case_id,
        )
        return None if row is None else StoredEvidence.model_validate(dict(row))

    async def mark_submitted(self, case_id: UUID) -> None:
        await self._pool.execute(
            "UPDATE cases SET status = 'submitted',"
            " submitted_at = coalesce(submitted_at, now()) WHERE case_id = $1",
            case_id,
        )
