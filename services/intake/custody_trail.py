"""Print a case's chain of custody and check each stored object's hash.

Run ``python -m services.intake.custody_trail CASE_ID``. Each object that the trail
records with a hash is read back from storage and hashed again. Those reads are
appended to the trail like any other. The exit status is 0 when every object
matches, 1 when one is missing or changed, and 2 when the case has no trail.
"""

import argparse
import asyncio
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
from minio.error import S3Error

from common.db import create_pool
from common.settings import PlatformSettings
from common.storage import EvidenceStore
from contracts.custody import CustodyAction
from services.intake.custody import CustodyEntry, append_custody, custody_trail

CHECKER_ACTOR = "custody-check"


@dataclass(frozen=True)
class ObjectCheck:
    """One stored object: the hash its trail first recorded and the hash now."""

    object_key: str
    recorded_sha256: str
    actual_sha256: str | None

    @property
    def matches(self) -> bool:
        return self.actual_sha256 == self.recorded_sha256


@dataclass(frozen=True)
class TrailReport:
    entries: list[CustodyEntry]
    checks: list[ObjectCheck]

    @property
    def intact(self) -> bool:
        return all(check.matches for check in self.checks)


async def verify_trail(
    pool: asyncpg.Pool, evidence: EvidenceStore, case_id: UUID
) -> TrailReport:
    """Read the trail, hash every object it records again, and record those reads."""
    entries = await custody_trail(pool, case_id)
    recorded: dict[str, str] = {}
    for entry in entries:
        if entry.sha256 is not None:
            recorded.setdefault(entry.object_key, entry.sha256)
    checks = []
    for key, sha256 in recorded.items():
        try:
            actual, size = await evidence.sha256_of(key)
        except S3Error as error:
            if error.code != "NoSuchKey":
                raise
            actual, size = None, None
        checks.append(ObjectCheck(key, sha256, actual))
        await append_custody(
            pool,
            CustodyEntry(
                entry_id=uuid.uuid4(),
                case_id=case_id,
                action=CustodyAction.READ,
                object_key=key,
                actor=CHECKER_ACTOR,
                occurred_at=datetime.now(UTC),
                sha256=actual,
                size_bytes=size,
                detail="hashed again to verify the custody trail",
            ),
        )
    return TrailReport(entries=entries, checks=checks)


def format_report(report: TrailReport) -> str:
    lines = []
    for entry in report.entries:
        parts = [
            entry.occurred_at.isoformat(timespec="seconds"),
            entry.action.value,
            entry.actor,
            entry.object_key,
        ]
        if entry.sha256:
            parts.append(f"sha256 {entry.sha256}")
        if entry.size_bytes is not None:
            parts.append(f"{entry.size_bytes} bytes")
        if entry.case_link:
            parts.append(f"via {entry.case_link}")
        if entry.detail:
            parts.append(entry.detail)
        lines.append("  ".join(parts))
    lines.append("")
    for check in report.checks:
        if check.actual_sha256 is None:
            verdict = "MISSING from storage"
        elif check.matches:
            verdict = "ok, hash matches"
        else:
            verdict = f"CHANGED: now sha256 {check.actual_sha256}"
        lines.append(f"{check.object_key}: {verdict}")
    return "\n".join(lines)


async def _main(case_id: UUID) -> int:
    settings = PlatformSettings()
    pool = await create_pool(settings.database_url, "intake", max_size=2)
    try:
        report = await verify_trail(pool, EvidenceStore(settings), case_id)
    finally:
        await pool.close()
    if not report.entries:
        print(f"case {case_id} has no custody records", file=sys.stderr)
        return 2
    print(format_report(report))
    return 0 if report.intact else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case_id", type=UUID, help="the case whose trail to print")
    arguments = parser.parse_args()
    sys.exit(asyncio.run(_main(arguments.case_id)))


if __name__ == "__main__":
    main()
