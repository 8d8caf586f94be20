"""Start one case workflow per ``case.submitted`` event, and pass replacement videos.

The workflow starts from the Kafka event rather than inside intake's request, so a
submission needs only Kafka to be up. The event stays in the log until a worker
starts the case. The workflow id is derived from the case id, so a redelivered event
finds the case already started and changes nothing.

An ``evidence.resubmitted`` event becomes a signal to the case's workflow, which
takes it only while it waits for a replacement video.
"""

import structlog
from faststream.kafka import KafkaBroker
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from common.kafka import subscribe
from common.settings import PlatformSettings
from contracts.events import CaseSubmitted, EvidenceResubmitted
from contracts.workflow import (
    EVIDENCE_RESUBMITTED_SIGNAL,
    WORKFLOW_NAME,
    CaseWorkflowInput,
    EvidenceResubmittedSignal,
    case_workflow_id,
)

log = structlog.get_logger(__name__)


def subscribe_case_starter(
    broker: KafkaBroker, client: Client, settings: PlatformSettings
) -> None:
    @subscribe(broker, settings, "case-starter", CaseSubmitted.topic)
    async def start_case(event: CaseSubmitted) -> None:
        workflow_id = case_workflow_id(event.case_id)
        structlog.contextvars.bind_contextvars(
            case_id=str(event.case_id), trace_id=event.trace_id
        )
        try:
            await client.start_workflow(
                WORKFLOW_NAME,
                CaseWorkflowInput(
                    case=event.case,
                    video=event.video,
                    submitted_at=event.occurred_at,
                    trace_id=event.trace_id,
                    resubmission_window_seconds=settings.evidence_resubmission_minutes
                    * 60,
                    ruling_target_minutes=settings.ruling_target_minutes,
                ),
                id=workflow_id,
                task_queue=settings.temporal_task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
            log.info("case workflow started", workflow_id=workflow_id)
        except WorkflowAlreadyStartedError:
            log.info("case workflow already exists", workflow_id=workflow_id)
        finally:
            structlog.contextvars.unbind_contextvars("case_id", "trace_id")


def subscribe_resubmissions(
    broker: KafkaBroker, client: Client, settings: PlatformSettings
) -> None:
    @subscribe(broker, settings, "case-resubmissions", EvidenceResubmitted.topic)
    async def pass_replacement(event: EvidenceResubmitted) -> None:
        workflow_id = case_workflow_id(event.case_id)
        structlog.contextvars.bind_contextvars(
            case_id=str(event.case_id), trace_id=event.trace_id
        )
        try:
            await client.get_workflow_handle(workflow_id).signal(
                EVIDENCE_RESUBMITTED_SIGNAL,
                EvidenceResubmittedSignal(video=event.video),
            )
            log.info(
                "replacement video passed to workflow",
                object_key=event.video.object_key,
            )
        except RPCError as error:
            # A workflow that has ended takes no replacement, and nothing can.
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            log.warning("replacement video for an ended case", error=str(error))
        finally:
            structlog.contextvars.unbind_contextvars("case_id", "trace_id")
