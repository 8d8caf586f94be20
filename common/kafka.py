"""Kafka plumbing: topic names, the broker, publishing events keyed by case."""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.middlewares import AckPolicy

from common.kafka_retry import DEAD_LETTER_TOPIC, dead_letter_middleware
from common.settings import PlatformSettings
from contracts.events import Event

log = structlog.get_logger(__name__)
Handler = Callable[..., Awaitable[Any]]


def topic_name(settings: PlatformSettings, topic: str) -> str:
    return f"{settings.kafka_topic_prefix}{topic}"


def group_name(settings: PlatformSettings, group: str) -> str:
    return f"{settings.kafka_topic_prefix}{group}"


def make_broker(settings: PlatformSettings, client_id: str) -> KafkaBroker:
    # Idempotent producer with acks=all, so a retried send is not written twice.
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        middlewares=[
            dead_letter_middleware(
                settings.kafka_topic_prefix, settings.kafka_max_message_bytes
            )
        ],
        logger=structlog.get_logger(f"{client_id}.kafka"),
    )


def subscribe(
    broker: KafkaBroker, settings: PlatformSettings, group: str, *topics: str
) -> Callable[[Handler], Handler]:
    """Return a decorator that subscribes a handler to topics in a consumer group.

    The offset is committed after the handler returns. A handler that raises gets the
    message again, so handlers must be safe to repeat.
    """
    return broker.subscriber(
        *[topic_name(settings, topic) for topic in topics],
        group_id=group_name(settings, group),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )


async def publish_event(
    broker: KafkaBroker,
    settings: PlatformSettings,
    event: Event,
    topic: str | None = None,
) -> None:
    """Publish one event on its topic, keyed by case id so a case stays ordered."""
    target = topic_name(settings, topic or event.topic)
    await broker.publish(
        event.model_dump(mode="json"),
        topic=target,
        key=str(event.case_id).encode(),
        headers={"event-id": str(event.event_id), "trace-id": event.trace_id},
    )
    log.info(
        "event published",
        topic=target,
        event_id=str(event.event_id),
        case_id=str(event.case_id),
        trace_id=event.trace_id,
    )


async def ensure_topics(
    settings: PlatformSettings, topics: list[str], wait_seconds: float = 60.0
) -> None:
    """Create the topics a process uses (and the dead-letter topic) if missing.

    Waits up to ``wait_seconds`` for the broker, so a process may start before Kafka.
    """
    topics = [*topics, DEAD_LETTER_TOPIC]
    deadline = time.monotonic() + wait_seconds
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        try:
            await admin.start()
            break
        except KafkaConnectionError:
            if time.monotonic() > deadline:
                raise
            log.warning("kafka not reachable yet", bootstrap=settings.kafka_bootstrap)
            await asyncio.sleep(1)
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=topic_name(settings, topic),
                num_partitions=settings.kafka_partitions,
                replication_factor=1,
            )
            for topic in topics
            if topic_name(settings, topic) not in existing
        ]
        if missing:
            # Another process may create the same topic at the same moment.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
            log.info("topics created", topics=[topic.name for topic in missing])
    finally:
        await admin.close()
