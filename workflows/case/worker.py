"""The case worker: runs case workflows and their activities, and starts new cases.

The evidence checks run in the evidence worker (``python -m workflows.evidence``).
"""

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import (
    SandboxedWorkflowRunner,
    SandboxRestrictions,
)

from common.db import create_pool
from common.kafka import ensure_topics, make_broker
from common.lifecycle import consuming
from common.logging import configure_logging
from common.outbox import relaying
from common.settings import PlatformSettings
from common.storage import EvidenceStore
from common.temporal import connect_temporal
from common.working_days import load_working_day_calendar
from contracts.events import ALL_EVENTS, InsurerReminder
from decision_support import load_accident_types
from documents.archive import DocumentArchive
from documents.issue import DocumentIssuer
from documents.keys import load_private_key
from identity.party_access import PartyTokens
from services.intake.settings import IntakeSettings
from workflows.case.activities import CASE_WORKER_SCHEMA, CaseActivities
from workflows.case.settlement import SettlementActivities
from workflows.case.starter import subscribe_case_starter, subscribe_resubmissions
from workflows.case.workflow import RemoteLiabilityCaseWorkflow
from workflows.evidence.activities import EvidenceActivities
from workflows.evidence.decoding import Decoder
from workflows.review.activities import (
    RULING_LINK_LIFETIME,
    DocumentActivities,
    ReviewActivities,
)
from workflows.review.workflow import RulingReviewWorkflow

log = structlog.get_logger(__name__)


async def run_worker(settings: PlatformSettings) -> None:
    await ensure_topics(
        settings,
        # Per-insurer topics are templates, created when first written.
        [
            *(event.topic for event in ALL_EVENTS if "{" not in event.topic),
            InsurerReminder.request_topic,
        ],
    )
    client = await connect_temporal(settings)
    broker = make_broker(settings, "case-worker")
    subscribe_case_starter(broker, client, settings)
    subscribe_resubmissions(broker, client, settings)
    # A broken working-days file stops the worker here, before any deadline.
    calendar = load_working_day_calendar(settings.working_days_file)
    pool = await create_pool(settings.database_url, CASE_WORKER_SCHEMA)
    evidence = EvidenceStore(settings)
    activities = CaseActivities(settings, pool)
    # Cases started before the evidence checks had a queue of their own schedule
    # them on this one, and decode in this process's threads.
    legacy_evidence = EvidenceActivities(settings, pool, evidence, Decoder(0))
    # Ruling links go to intake's phone page, signed with intake's party secret.
    intake = IntakeSettings()
    party_tokens = PartyTokens(
        replace(intake.party_access_policy(), link_lifetime=RULING_LINK_LIFETIME)
    )
    documents = DocumentActivities(
        DocumentIssuer(
            load_private_key(settings.document_key_file),
            DocumentArchive(evidence),
            settings.document_verify_url,
            settings.document_font_file,
        ),
        load_accident_types(settings.accident_types_file),
        party_tokens,
        intake.public_url(),
        calendar,
    )
    review = ReviewActivities(settings, pool, calendar)
    settlement = SettlementActivities(
        settings,
        pool,
        PartyTokens(intake.settlement_link_policy()),
        intake.public_url(),
    )
    worker = case_worker(
        client,
        settings,
        [
            *activities.all(),
            *documents.all(),
            *review.all(),
            *legacy_evidence.all(),
            *settlement.all(),
        ],
    )
    async with consuming(broker, pool), relaying(pool, broker, settings):
        log.info("case worker started", task_queue=settings.temporal_task_queue)
        await worker.run()


def case_worker(
    client: Client, settings: PlatformSettings, activities: Sequence[Callable[..., Any]]
) -> Worker:
    """Build the Temporal worker of the case and review workflows.

    Every ruled case leaves a review workflow open for its reconsideration window,
    which lasts weeks. The SDK's default cache of 1000 workflows kept each of them
    in memory, so the worker's memory grew with every case until a thousand were
    cached. The bounded cache evicts the least recently used workflow, an idle
    review as a rule, which replays from its history when its timer fires.
    """
    return Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=[RemoteLiabilityCaseWorkflow, RulingReviewWorkflow],
        activities=activities,
        workflow_runner=workflow_runner(),
        max_cached_workflows=settings.case_worker_cached_workflows,
    )


def workflow_runner() -> SandboxedWorkflowRunner:
    """Return the sandbox that runs workflow code, with every module passed through.

    The sandbox otherwise imports each workflow's modules again for every workflow
    it starts or replays. The workflow modules keep no state at module level, so
    sharing them between workflows is safe, and the sandbox still rejects
    non-deterministic calls such as ``datetime.now``.
    """
    restrictions = SandboxRestrictions.default.with_passthrough_all_modules()
    return SandboxedWorkflowRunner(restrictions=restrictions)


def main() -> None:
    settings = PlatformSettings()
    configure_logging("case-worker", settings.log_level)
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
