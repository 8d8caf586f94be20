"""Kafka handlers: the case workflow's verdicts on evidence, and custody steps."""

import structlog
from faststream.kafka import KafkaBroker

from common.kafka import subscribe
from common.settings import PlatformSettings
from contracts.events import CaseClosed, CustodyRecorded, EvidenceRejected
from services.intake.custody import CustodyEntry
from services.intake.eligibility import EligibilityDecision, OnSceneReason
from services.intake.store import CaseStore

log = structlog.get_logger(__name__)
# The case workflow's outcome when no acceptable video arrived in time.
SENT_ON_SCENE_OUTCOME = "sent_on_scene"
EVIDENCE_NOT_REPLACED = OnSceneReason(
    code="evidence_not_replaced",
    message="no acceptable scene video arrived before the deadline",
    message_zh="未在规定时间内提供合格的现场视频。",
)


def subscribe_intake_events(
    broker: KafkaBroker, settings: PlatformSettings, cases: CaseStore
) -> None:
    @subscribe(broker, settings, "intake", EvidenceRejected.topic)
    async def on_evidence_rejected(event: EvidenceRejected) -> None:
        changed = await cases.request_resubmission(event)
        log.info(
            "replacement video requested" if changed else "stale rejection ignored",
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
