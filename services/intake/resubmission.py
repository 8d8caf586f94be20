"""Replacement videos for cases whose evidence failed a check.

``accept_replacement`` is the one entry point: any upload path that has stored and
hashed a video for a case in ``resubmission_requested`` calls it to record the
video and announce it to the case workflow.
"""

import uuid
from uuid import UUID

import structlog

from contracts.case import StoredEvidence
from contracts.events import EvidenceResubmitted
from services.intake.custody import CustodyEntry
from services.intake.runtime import IntakeRuntime

log = structlog.get_logger(__name__)


def resubmitted_event(
    case_id: UUID, trace_id: str, video: StoredEvidence
) -> EvidenceResubmitted:
    """Build the announcement; its id follows from the video, so a resend is dropped."""
    return EvidenceResubmitted(
        event_id=uuid.uuid5(case_id, f"evidence.resubmitted:{video.sha256}"),
        case_id=case_id,
        trace_id=trace_id,
        video=video,
    )


async def accept_replacement(
    runtime: IntakeRuntime,
    case_id: UUID,
    trace_id: str,
    video: StoredEvidence,
    uploaded: CustodyEntry,
) -> bool:
    """Record a replacement video and announce it with ``evidence.resubmitted``.

    The video, its custody entry, the case's new status and the announcement (in
    the outbox) commit together. Returns False, recording nothing, when the case
    does not wait for a replacement.
    """
    announcement = resubmitted_event(case_id, trace_id, video)
    if not await runtime.cases.save_replacement(case_id, video, uploaded, announcement):
        return False
    log.info(
        "replacement video announced",
        case_id=str(case_id),
        trace_id=trace_id,
        object_key=video.object_key,
    )
    return True
