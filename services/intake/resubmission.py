"""Replacement videos for cases whose evidence failed a check.

``accept_replacement`` is the one entry point: any upload path that has stored and
hashed a video for a case in ``resubmission_requested`` calls it to record the
video and announce it to the case workflow.
"""

import uuid
from uuid import UUID

import structlog

from common.kafka import publish_event
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
    """Record a replacement video and publish ``evidence.resubmitted``.

    Returns False, recording nothing, when the case does not wait for a replacement.
    The case is marked submitted before publishing. If the publish fails, the
    caller reports it, and ``POST /cases/{id}/submit`` publishes the same event again.
    """
    if not await runtime.cases.save_replacement(case_id, video, uploaded):
        return False
    await publish_event(
        runtime.broker, runtime.settings, resubmitted_event(case_id, trace_id, video)
    )
    log.info(
        "replacement video announced",
        case_id=str(case_id),
        trace_id=trace_id,
        object_key=video.object_key,
    )
    return True
