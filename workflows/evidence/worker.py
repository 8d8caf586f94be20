"""The evidence worker: runs the case workflow's evidence checks on their own queue.

It serves ``contracts.workflow.evidence_task_queue`` of the case queue, decodes in
a pool of ``DINGZE_EVIDENCE_DECODE_PROCESSES`` processes, and writes custody events
to the case worker's outbox, which the case worker's relay publishes.
"""

import asyncio
import os

import structlog
from temporalio.worker import Worker

from common.db import create_pool
from common.logging import configure_logging
from common.settings import PlatformSettings
from common.storage import EvidenceStore
from common.temporal import connect_temporal
from contracts.workflow import evidence_task_queue
from workflows.case.activities import CASE_WORKER_SCHEMA
from workflows.evidence.activities import EvidenceActivities
from workflows.evidence.decoding import Decoder

log = structlog.get_logger(__name__)


async def run_worker(settings: PlatformSettings) -> None:
    client = await connect_temporal(settings)
    pool = await create_pool(settings.database_url, CASE_WORKER_SCHEMA)
    processes = settings.evidence_decode_processes or os.cpu_count() or 1
    decoder = Decoder(processes)
    activities = EvidenceActivities(settings, pool, EvidenceStore(settings), decoder)
    task_queue = evidence_task_queue(settings.temporal_task_queue)
    worker = Worker(client, task_queue=task_queue, activities=activities.all())
    try:
        log.info(
            "evidence worker started",
            task_queue=task_queue,
            decode_processes=processes,
        )
        await worker.run()
    finally:
        decoder.shutdown()
        await pool.close()


def main() -> None:
    settings = PlatformSettings()
    configure_logging("evidence-worker", settings.log_level)
    asyncio.run(run_worker(settings))
