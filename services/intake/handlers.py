"""Kafka handlers: the case workflow's verdicts on evidence, and custody steps."""

import uuid
from datetime import UTC, datetime

import structlog
from faststream.kafka import KafkaBroker

from common.kafka import subscribe
from contracts.events import (
    CaseClosed,
    CustodyRecorded,
    EvidenceRejected,
    SmsRequested,
)
from identity.party_access import PartyTokens
from services.intake.custody import CustodyEntry
from services.intake.eligibility import EligibilityDecision, OnSceneReason
from services.intake.settings import IntakeSettings
from services.intake.store import CaseStore, StoredCase

log = structlog.get_logger(__name__)
# The case workflow's outcome when no acceptable video arrived in time.
SENT_ON_SCENE_OUTCOME = "sent_on_scene"
EVIDENCE_NOT_REPLACED = OnSceneReason(
    code="evidence_not_replaced",
    message="no acceptable scene video arrived before the deadline",
    message_zh="未在规定时间内提供合格的现场视频。",
)


def subscribe_intake_events(
    broker: KafkaBroker,
    settings: IntakeSettings,
    cases: CaseStore,
    tokens: PartyTokens,
) -> None:
    @subscribe(broker, settings, "intake", EvidenceRejected.topic)
    async def on_evidence_rejected(event: EvidenceRejected) -> None:
        """Let the case take a new upload and text each party what to redo."""
        stored = await cases.get(event.case_id)
        if stored is None:
            log.warning("rejection for an unknown case", case_id=str(event.case_id))
            return
        messages = _resubmission_messages(settings, tokens, stored, event)
        changed = await cases.request_resubmission(event, messages)
        log.info(
            "replacement video requested" if changed else "rejection ignored",
            case_id=str(event.case_id),
            trace_id=event.trace_id,
            attempt=event.attempt,
            findings=[finding.code for finding in event.findings],
        )

    @subscribe(broker, settings, "intake", CaseClosed.topic)
    async def on_case_closed(event: CaseClosed) -> None:
        if event.outcome != SENT_ON_SCENE_OUTCOME:
            return
        await cases.send_on_scene(
            event.case_id,
            EligibilityDecision(
                eligible=False,
                reasons=[EVIDENCE_NOT_REPLACED],
                message="This accident cannot be settled remotely: "
                f"{EVIDENCE_NOT_REPLACED.message}. Take the driving and vehicle "
                "licences to the nearest traffic police station.",
                message_zh="本事故不能远程处理："
                + EVIDENCE_NOT_REPLACED.message_zh
                + "请携带驾驶证、行驶证到就近交警队办理。",
            ),
        )
        log.info(
            "case sent to on-scene handling",
            case_id=str(event.case_id),
            trace_id=event.trace_id,
        )

    @subscribe(broker, settings, "intake", CustodyRecorded.topic)
    async def on_custody_recorded(event: CustodyRecorded) -> None:
        await cases.append_custody(CustodyEntry.from_event(event))


def _resubmission_messages(
    settings: IntakeSettings,
    tokens: PartyTokens,
    stored: StoredCase,
    event: EvidenceRejected,
) -> list[SmsRequested]:
    """Build one SMS per party: the reason, the deadline and its own upload link."""
    case = stored.details
    deadline = event.resubmit_by.astimezone(case.accident_at.tzinfo)
    now = datetime.now(UTC)
    messages = []
    for party in case.parties:
        token = tokens.issue_link(case.case_id, party.party_id, now)
        message_id = (
            f"{case.case_id}:evidence_resubmission_requested"
            f"#{event.attempt}:{party.party_id}"
        )
        messages.append(
            SmsRequested(
                # The id follows from the message id, so the outbox keeps one.
                event_id=uuid.uuid5(case.case_id, message_id),
                case_id=case.case_id,
                trace_id=event.trace_id,
                message_id=message_id,
                party_id=party.party_id,
                phone=party.phone,
                template="evidence_resubmission_requested",
                variables={
                    "case_number": str(case.case_id)[:8],
                    "plate": party.plate,
                    "reason": event.message_zh,
                    "deadline": deadline.strftime("%m-%d %H:%M"),
                    "link": f"{settings.public_url()}/phone/#t={token}",
                },
            )
        )
    return messages
