"""The checks after a chaos run: what finished, what is stuck, doubled, lost or changed.

Every figure is read from the systems' own records, never from the driver's view:
the SMS provider's deliveries, the insurers' topics, the outboxes, the consumers'
inboxes and tables, the workflows, and the stored objects hashed again.
"""

import json
import re
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaConsumer
from minio.error import S3Error
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from chaos.cases import ChaosCase
from common.settings import PlatformSettings
from common.storage import EvidenceStore
from contracts.workflow import TIMELINE_QUERY, CaseTimeline, case_workflow_id

OUTBOX_SCHEMAS = ("intake", "insurance", "case_worker")
# Topics whose consumer records each event id in its inbox, by schema.
INBOX_TOPICS = {
    "case.queued": ("liability",),
    "case.closed": ("liability",),
    "case.escalated": ("liability",),
    "case.ruled": ("insurance",),
    "claim.opened": ("insurance",),
    "claim.assessed": ("insurance",),
    "claim.settled": ("insurance",),
    "claim.refused": ("insurance",),
    "settlement.confirmed": ("insurance",),
    "reminder.requested": ("insurance",),
}
# The event the simulated insurer publishes for each event on its own topics. Its
# id is derived from the received event's id, and insurance's inbox records it.
INSURER_ANSWERS = {"notifications": "claim.opened", "settlements": "claim.settled"}


@dataclass(frozen=True)
class TopicRecord:
    topic: str
    event: dict[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.event.get("event_id"))


@dataclass
class Findings:
    """The figures of one run. Every list is empty after a clean run."""

    started: int
    finished: int
    stuck: list[str] = field(default_factory=list)
    duplicate_sms: list[str] = field(default_factory=list)
    duplicate_notifications: list[str] = field(default_factory=list)
    lost_events: list[str] = field(default_factory=list)
    corrupted_evidence: list[str] = field(default_factory=list)
    # Same event id on an insurer's topic more than once: a relay that crashed
    # between publish and mark. Insurers drop these by event id, so they are
    # listed apart and do not count as duplicates.
    redelivered_records: int = 0
    # Platform processes that ended without being killed, and were started again.
    unplanned_exits: list[str] = field(default_factory=list)
    # Targets that did not serve again within their readiness timeout.
    not_recovered: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.finished == self.started and not (
            self.stuck
            or self.duplicate_sms
            or self.duplicate_notifications
            or self.lost_events
            or self.corrupted_evidence
            or self.not_recovered
        )

    def rows(self) -> list[tuple[str, int]]:
        return [
            ("cases finished", self.finished),
            ("cases stuck", len(self.stuck)),
            ("duplicate SMS", len(self.duplicate_sms)),
            ("duplicate insurer notifications", len(self.duplicate_notifications)),
            ("events lost", len(self.lost_events)),
            ("evidence hash mismatches", len(self.corrupted_evidence)),
        ]

    def render(self) -> str:
        """Return the table and, under it, one line per finding."""
        width = max(len(name) for name, _ in self.rows())
        lines = [f"{'figure':<{width}}  count", f"{'-' * width}  -----"]
        lines += [f"{name:<{width}}  {value:>5}" for name, value in self.rows()]
        lines.append(f"(of {self.started} cases started)")
        details = {
            "stuck": self.stuck,
            "duplicate SMS": self.duplicate_sms,
            "duplicate insurer notification": self.duplicate_notifications,
            "lost": self.lost_events,
            "evidence changed": self.corrupted_evidence,
        }
        for label, items in details.items():
            lines += [f"  {label}: {item}" for item in items]
        lines += [f"  exited by itself: {item}" for item in self.unplanned_exits]
        lines += [f"  not back: {item}" for item in self.not_recovered]
        if self.redelivered_records:
            lines.append(
                f"  {self.redelivered_records} insurer topic records repeated an "
                "event id already there (dropped by event id, not counted)"
            )
        return "\n".join(lines)


async def check_run(
    settings: PlatformSettings, temporal: Client, cases: list[ChaosCase]
) -> Findings:
    """Read every record the run left and return its figures."""
    case_ids = {case.case_id for case in cases if case.case_id is not None}
    findings = Findings(
        started=len(cases), finished=sum(1 for case in cases if case.finished)
    )
    for case in cases:
        if not case.finished:
            findings.stuck.append(await _where_stuck(temporal, case))
    records = await read_topics(settings, case_ids)
    connection = await asyncpg.connect(settings.database_url)
    try:
        findings.duplicate_sms = await duplicate_sms(connection, case_ids)
        dupes, redelivered = duplicate_notifications(records)
        findings.duplicate_notifications = dupes
        findings.redelivered_records = redelivered
        findings.lost_events = await lost_events(
            connection, temporal, case_ids, records
        )
        findings.corrupted_evidence = await changed_evidence(
            connection, EvidenceStore(settings), case_ids
        )
    finally:
        await connection.close()
    return findings


async def _where_stuck(temporal: Client, case: ChaosCase) -> str:
    where = f"case {case.index} ({case.case_id}): driver at '{case.step}'"
    if case.error:
        where += f", error {case.error}"
    if case.case_id is None:
        return where
    try:
        timeline = await temporal.get_workflow_handle(
            case_workflow_id(case.case_id)
        ).query(TIMELINE_QUERY, result_type=CaseTimeline)
    except RPCError as error:
        return f"{where}, workflow not readable ({error.status.name}: {error})"
    last = timeline.entries[-1].step if timeline.entries else "none"
    return f"{where}, workflow stage {timeline.stage.value}, last step '{last}'"


async def read_topics(
    settings: PlatformSettings, case_ids: set[UUID]
) -> list[TopicRecord]:
    """Read every record of the run's topics, from the start, for the run's cases."""
    prefix = settings.kafka_topic_prefix
    case_id_texts = {str(case_id) for case_id in case_ids}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=f"{prefix}chaos-check-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[TopicRecord] = []
    try:
        consumer.subscribe(pattern=f"^{re.escape(prefix)}.*")
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=200)
        partitions = list(consumer.assignment())
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        pending = {tp for tp in partitions if ends[tp] > 0}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=1000)
            for tp, batch in batches.items():
                for record in batch:
                    _keep(records, tp.topic.removeprefix(prefix), record, case_id_texts)
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
    finally:
        await consumer.stop()
    return records


def _keep(
    records: list[TopicRecord], topic: str, record: Any, case_id_texts: set[str]
) -> None:
    if record.value is None:
        return
    try:
        event = json.loads(record.value)
    except ValueError:
        return
    if isinstance(event, dict) and event.get("case_id") in case_id_texts:
        records.append(TopicRecord(topic, event))


async def duplicate_sms(
    connection: asyncpg.Connection, case_ids: set[UUID]
) -> list[str]:
    """List texts that reached a number twice, by message id or by identical body."""
    # The number is stored sealed, so its lookup hash identifies it.
    rows = await connection.fetch(
        "SELECT message_id, phone_hash, body FROM notify.local_deliveries"
        " WHERE split_part(message_id, ':', 1) = ANY($1::text[])",
        [str(case_id) for case_id in case_ids],
    )
    by_id = Counter((row["message_id"], row["phone_hash"]) for row in rows)
    by_body: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        by_body[(row["phone_hash"], row["body"])].add(row["message_id"])
    found = [
        f"message {message_id} delivered {count} times"
        for (message_id, _), count in by_id.items()
        if count > 1
    ]
    found += [
        f"the same text went to one number as {len(ids)} messages: {sorted(ids)}"
        for ids in by_body.values()
        if len(ids) > 1
    ]
    return found


def duplicate_notifications(records: list[TopicRecord]) -> tuple[list[str], int]:
    """List insurers that got one ruling or confirmation under two event ids.

    Also returns how many records repeated an event id already on the topic.
    """
    ids: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    seen: Counter[tuple[str, str]] = Counter()
    for record in records:
        if not record.topic.startswith("insurer."):
            continue
        subject = record.event.get("document_number") or record.event.get(
            "claim_number", ""
        )
        ids[(record.topic, str(record.event["case_id"]), str(subject))].add(
            record.event_id
        )
        seen[(record.topic, record.event_id)] += 1
    found = [
        f"{topic} got case {case_id} ({subject}) as {len(event_ids)} events"
        for (topic, case_id, subject), event_ids in ids.items()
        if len(event_ids) > 1
    ]
    return found, sum(count - 1 for count in seen.values())


async def lost_events(
    connection: asyncpg.Connection,
    temporal: Client,
    case_ids: set[UUID],
    records: list[TopicRecord],
) -> list[str]:
    """List events that an outbox contains but Kafka lacks, or no consumer recorded."""
    keys = [str(case_id) for case_id in case_ids]
    on_topics = {record.event_id for record in records}
    lost = []
    for schema in OUTBOX_SCHEMAS:
        rows = await connection.fetch(
            f"SELECT event_id::text, topic, sent_at FROM {schema}.outbox"
            " WHERE message_key = ANY($1::text[])",
            keys,
        )
        for row in rows:
            if row["sent_at"] is None:
                lost.append(f"{schema} outbox never published {_name(row)}")
            elif row["event_id"] not in on_topics:
                lost.append(f"{schema} outbox marked {_name(row)} sent, not on Kafka")
    inboxes = {
        schema: {
            str(row["event_id"])
            for row in await connection.fetch(f"SELECT event_id FROM {schema}.inbox")
        }
        for schema in ("liability", "insurance")
    }
    sms_sent = {
        row["message_id"]
        for row in await connection.fetch(
            "SELECT message_id FROM notify.messages WHERE status = 'sent'"
        )
    }
    custody = {
        str(row["entry_id"])
        for row in await connection.fetch("SELECT entry_id FROM intake.custody_records")
    }
    for record in records:
        if not _consumed(record, inboxes, sms_sent, custody):
            lost.append(
                f"{record.topic} event {record.event_id} of case "
                f"{record.event['case_id']} never consumed"
            )
    for case_id in case_ids:
        if not await _workflow_exists(temporal, case_id):
            lost.append(f"case.submitted of case {case_id} started no workflow")
    return lost


def _name(row: asyncpg.Record) -> str:
    return f"{row['topic']} event {row['event_id']}"


def _consumed(
    record: TopicRecord,
    inboxes: dict[str, set[str]],
    sms_sent: set[str],
    custody: set[str],
) -> bool:
    topic = record.topic
    if topic in INBOX_TOPICS:
        return all(record.event_id in inboxes[s] for s in INBOX_TOPICS[topic])
    if topic == "sms.requested":
        return record.event.get("message_id") in sms_sent
    if topic == "evidence.custody":
        return record.event_id in custody
    kind = topic.rsplit(".", 1)[-1]
    if topic.startswith("insurer.") and kind in INSURER_ANSWERS:
        if record.event.get("replaces_document_number"):
            return True
        answer = uuid.uuid5(UUID(record.event_id), INSURER_ANSWERS[kind])
        return str(answer) in inboxes["insurance"]
    # Topics without a consumer record to check (case.submitted is checked by
    # its workflow).
    return True


async def _workflow_exists(temporal: Client, case_id: UUID) -> bool:
    try:
        await temporal.get_workflow_handle(case_workflow_id(case_id)).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def changed_evidence(
    connection: asyncpg.Connection, store: EvidenceStore, case_ids: set[UUID]
) -> list[str]:
    """Hash every object the custody trails record again; list missing or changed."""
    rows = await connection.fetch(
        "SELECT DISTINCT ON (object_key) object_key, sha256"
        " FROM intake.custody_records WHERE case_id = ANY($1) AND sha256 IS NOT NULL"
        " ORDER BY object_key, position",
        list(case_ids),
    )
    changed = []
    for row in rows:
        try:
            actual, _ = await store.sha256_of(row["object_key"])
        except S3Error as error:
            changed.append(f"{row['object_key']}: {error.code}")
            continue
        if actual != row["sha256"]:
            changed.append(
                f"{row['object_key']}: stored {row['sha256'][:12]}…, now {actual[:12]}…"
            )
    return changed
