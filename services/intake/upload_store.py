"""Intake's records of multipart uploads and of the parties' consent."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy

UploadStatus = Literal[
    "active", "completing", "completed", "rejected", "aborted", "expired"
]
_COLUMNS = (
    "upload_id, case_id, kind, content_type, size_bytes, part_size, part_count,"
    " object_key, storage_upload_id, status, uploaded_by, badge_number, created_at,"
    " expires_at, finished_at, sha256, rejection"
)


@dataclass(frozen=True)
class Upload:
    upload_id: UUID
    case_id: UUID
    kind: Literal["video", "photo"]
    content_type: str
    size_bytes: int
    part_size: int
    part_count: int
    object_key: str
    storage_upload_id: str
    status: UploadStatus
    uploaded_by: str
    badge_number: str | None
    created_at: datetime
    expires_at: datetime
    finished_at: datetime | None = None
    sha256: str | None = None
    rejection: str | None = None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> "Upload":
        values = dict(row)
        if values["sha256"] is not None:
            values["sha256"] = values["sha256"].strip()
        return cls(**values)


@dataclass(frozen=True)
class UploadConflict:
    """Why a new upload cannot start: the case's state or a limit."""

    reason: Literal["case_not_open", "video_in_progress", "photo_limit"]
    case_status: str = ""
    other: Upload | None = None


class UploadStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(
        self, upload: Upload, max_photos: int, now: datetime
    ) -> tuple[UploadConflict | None, list[Upload]]:
        """Record a new upload unless the case's state or a limit forbids it.

        Returns the conflict, or None, and the stale uploads that this call marked
        expired, whose storage parts the caller aborts. The case's row lock orders
        this against other uploads and the submission of the same case.
        """
        async with self._pool.acquire() as connection, connection.transaction():
            case_status = await connection.fetchval(
                "SELECT status FROM cases WHERE case_id = $1 FOR UPDATE",
                upload.case_id,
            )
            if case_status not in ("draft", "resubmission_requested"):
                return UploadConflict("case_not_open", case_status=case_status), []
            expired = await connection.fetch(
                f"UPDATE uploads SET status = 'expired', finished_at = $2"
                f" WHERE case_id = $1 AND status IN ('active', 'completing')"
                f" AND expires_at <= $2 RETURNING {_COLUMNS}",
                upload.case_id,
                now,
            )
            stale = [Upload.from_row(row) for row in expired]
            conflict = await self._conflict(connection, upload, max_photos)
            if conflict is not None:
                return conflict, stale
            await connection.execute(
                f"INSERT INTO uploads ({_COLUMNS}) VALUES"
                " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
                " $15, $16, $17)",
                *(getattr(upload, name.strip()) for name in _COLUMNS.split(",")),
            )
        return None, stale

    async def _conflict(
        self, connection: PoolConnectionProxy, upload: Upload, max_photos: int
    ) -> UploadConflict | None:
        if upload.kind == "video":
            row = await connection.fetchrow(
                f"SELECT {_COLUMNS} FROM uploads WHERE case_id = $1"
                " AND kind = 'video' AND status IN ('active', 'completing')",
                upload.case_id,
            )
            if row is not None:
                return UploadConflict("video_in_progress", other=Upload.from_row(row))
            return None
        photos = await connection.fetchval(
            "SELECT count(*) FROM uploads WHERE case_id = $1 AND kind = 'photo'"
            " AND status IN ('active', 'completing', 'completed')",
            upload.case_id,
        )
        if photos >= max_photos:
            return UploadConflict("photo_limit")
        return None

    async def get(self, case_id: UUID, upload_id: UUID) -> Upload | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM uploads WHERE case_id = $1 AND upload_id = $2",
            case_id,
            upload_id,
        )
        return None if row is None else Upload.from_row(row)

    async def list_for_case(self, case_id: UUID) -> list[Upload]:
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM uploads WHERE case_id = $1 ORDER BY created_at",
            case_id,
        )
        return [Upload.from_row(row) for row in rows]

    async def claim_for_completion(self, upload_id: UUID, now: datetime) -> bool:
        """Move an active, unexpired upload to ``completing``; False if it was not."""
        result = await self._pool.execute(
            "UPDATE uploads SET status = 'completing' WHERE upload_id = $1"
            " AND status = 'active' AND expires_at > $2",
            upload_id,
            now,
        )
        return bool(result == "UPDATE 1")

    async def finish(
        self,
        upload_id: UUID,
        status: UploadStatus,
        now: datetime,
        *,
        sha256: str | None = None,
        rejection: str | None = None,
        expected: tuple[UploadStatus, ...] = ("completing",),
    ) -> bool:
        result = await self._pool.execute(
            "UPDATE uploads SET status = $2, finished_at = $3, sha256 = $4,"
            " rejection = $5 WHERE upload_id = $1 AND status = ANY($6::text[])",
            upload_id,
            status,
            now,
            sha256,
            rejection,
            list(expected),
        )
        return bool(result == "UPDATE 1")

    async def record_consent(self, case_id: UUID, party_id: str) -> datetime:
        consented_at: datetime = await self._pool.fetchval(
            "INSERT INTO party_consents (case_id, party_id) VALUES ($1, $2)"
            " ON CONFLICT (case_id, party_id) DO UPDATE"
            " SET consented_at = party_consents.consented_at"
            " RETURNING consented_at",
            case_id,
            party_id,
        )
        return consented_at

    async def consented(self, case_id: UUID, party_id: str) -> bool:
        return bool(
            await self._pool.fetchval(
                "SELECT 1 FROM party_consents WHERE case_id = $1 AND party_id = $2",
                case_id,
                party_id,
            )
        )
