"""The engines' own limits, measured on the stack the platform runs on.

Each measurement does the smallest unit of work the platform needs from that engine,
as fast as a single client process can, after a short warm-up that is not counted:
an empty Temporal workflow started and completed, a Kafka record produced and
consumed, a PostgreSQL row inserted, a small S3 object written.
"""

import asyncio
import io
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from minio import Minio
from minio.deleteobjects import DeleteObject
from temporalio.client import Client
from temporalio.worker import Worker

from bench.empty_workflow import EmptyWorkflow
from bench.resources import tree_cpu_seconds
from bench.stats import percentile
from common.settings import PlatformSettings


@dataclass(frozen=True)
class EngineSizes:
    """How much work each measurement does; the smoke run uses small numbers."""

    workflows: int = 600
    kafka_records: int = 20000
    kafka_pings: int = 300
    rows: int = 10000
    objects: int = 2000
    concurrency: int = 64


@dataclass(frozen=True)
class EngineResult:
    engine: str
    operation: str
    count: int
    seconds: float
    p50_ms: float | None = None
    p99_ms: float | None = None
    # CPU seconds the engine's own processes used during the timed part, when the
    # engine runs on this machine.
    server_cpu_seconds: float | None = None

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


async def _bounded(
    count: int, concurrency: int, task: Callable[[int], Awaitable[None]]
) -> float:
    """Run ``task(i)`` for each i, ``concurrency`` at once; return the seconds."""
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with gate:
            await task(index)

    started = time.perf_counter()
    await asyncio.gather(*(one(index) for index in range(count)))
    return time.perf_counter() - started


async def temporal_empty_workflows(
    client: Client, run_id: str, sizes: EngineSizes, server_pid: int | None = None
) -> EngineResult:
    task_queue = f"bench-empty-{run_id}"

    async def start_and_wait(index: int) -> None:
        await client.execute_workflow(
            EmptyWorkflow.run,
            id=f"bench-empty-{run_id}-{index}",
            task_queue=task_queue,
            execution_timeout=timedelta(minutes=5),
        )

    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[EmptyWorkflow],
        max_concurrent_workflow_tasks=sizes.concurrency,
    ):
        warm_up = max(sizes.workflows // 10, 10)
        await _bounded(warm_up, sizes.concurrency, lambda i: start_and_wait(-1 - i))
        cpu_before = _server_cpu(server_pid)
        seconds = await _bounded(sizes.workflows, sizes.concurrency, start_and_wait)
        cpu_after = _server_cpu(server_pid)
    server_cpu = None
    if cpu_before is not None and cpu_after is not None:
        server_cpu = cpu_after - cpu_before
    return EngineResult(
        "Temporal",
        "empty workflow started and completed",
        sizes.workflows,
        seconds,
        server_cpu_seconds=server_cpu,
    )


def _server_cpu(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        return tree_cpu_seconds(psutil.Process(pid))[0]
    except psutil.Error:
        return None


async def kafka_round_trip(
    settings: PlatformSettings, run_id: str, sizes: EngineSizes
) -> list[EngineResult]:
    """Produce records with the platform's producer settings and consume them back."""
    topic = f"{settings.kafka_topic_prefix}bench-{run_id}.round-trip"
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(
                    topic,
                    num_partitions=settings.kafka_partitions,
                    replication_factor=1,
                )
            ]
        )
    finally:
        await admin.close()

    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, enable_idempotence=True, acks="all"
    )
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=f"bench-{run_id}",
        auto_offset_reset="earliest",
    )
    await producer.start()
    await consumer.start()
    try:
        # Wait for the partition assignment, so the first record's latency does not
        # include the group join.
        while not consumer.assignment():  # noqa: ASYNC110 (aiokafka has no event)
            await asyncio.sleep(0.05)
        latencies = await _ping(producer, consumer, topic, sizes.kafka_pings)
        rate = await _stream(producer, consumer, topic, sizes.kafka_records)
    finally:
        await consumer.stop()
        await producer.stop()
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([topic])
        finally:
            await admin.close()
    return [
        EngineResult(
            "Kafka",
            "record produced and consumed, one at a time",
            len(latencies),
            sum(latencies) / 1000,
            percentile(latencies, 50),
            percentile(latencies, 99),
        ),
        rate,
    ]


async def _ping(
    producer: AIOKafkaProducer, consumer: AIOKafkaConsumer, topic: str, count: int
) -> list[float]:
    latencies: list[float] = []
    for index in range(count + count // 10):
        started = time.perf_counter()
        await producer.send_and_wait(topic, f"ping-{index}".encode(), key=b"ping")
        await consumer.getone()
        if index >= count // 10:
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def _stream(
    producer: AIOKafkaProducer, consumer: AIOKafkaConsumer, topic: str, count: int
) -> EngineResult:
    payload = b"x" * 512
    started = time.perf_counter()
    sends = [
        await producer.send(topic, payload, key=str(index % 64).encode())
        for index in range(count)
    ]
    received = 0
    while received < count:
        batches = await consumer.getmany(timeout_ms=1000)
        received += sum(len(records) for records in batches.values())
    await asyncio.gather(*sends)
    seconds = time.perf_counter() - started
    return EngineResult(
        "Kafka", "512-byte records produced and consumed, streamed", count, seconds
    )


async def postgres_inserts(database_url: str, sizes: EngineSizes) -> EngineResult:
    """Insert rows one statement each, as the services write their state."""
    table = f"bench_rows_{uuid.uuid4().hex[:8]}"
    pool = await asyncpg.create_pool(database_url, min_size=8, max_size=8)
    try:
        await pool.execute(
            f"CREATE TABLE {table} (id uuid PRIMARY KEY, body jsonb NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())"
        )

        async def insert(_: int) -> None:
            await pool.execute(
                f"INSERT INTO {table} (id, body) VALUES ($1, $2)",
                uuid.uuid4(),
                '{"state": "submitted"}',
            )

        await _bounded(sizes.rows // 10, 8, insert)
        seconds = await _bounded(sizes.rows, 8, insert)
        await pool.execute(f"DROP TABLE {table}")
    finally:
        await pool.close()
    return EngineResult(
        "PostgreSQL", "row inserted through asyncpg", sizes.rows, seconds
    )


def _minio(settings: PlatformSettings) -> Minio:
    return Minio(
        settings.s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        secure=settings.s3_secure,
    )


async def s3_small_puts(settings: PlatformSettings, sizes: EngineSizes) -> EngineResult:
    """Write 4 KiB objects from a pool of threads, as the minio client is blocking."""
    store = _minio(settings)
    bucket = settings.s3_bucket
    prefix = f"bench/{uuid.uuid4().hex[:8]}"
    body = b"x" * 4096
    threads = min(sizes.concurrency, 16)

    def put(index: int) -> None:
        store.put_object(bucket, f"{prefix}/{index}", io.BytesIO(body), len(body))

    def run(count: int, offset: int) -> float:
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(put, range(offset, offset + count)))
        return time.perf_counter() - started

    if not store.bucket_exists(bucket):
        store.make_bucket(bucket)
    await asyncio.to_thread(run, sizes.objects // 10, sizes.objects)
    seconds = await asyncio.to_thread(run, sizes.objects, 0)
    await asyncio.to_thread(_remove_prefix, store, bucket, prefix)
    return EngineResult(
        "S3 (SeaweedFS)", "4 KiB object written", sizes.objects, seconds
    )


def _remove_prefix(store: Minio, bucket: str, prefix: str) -> None:
    names = [
        DeleteObject(item.object_name or "")
        for item in store.list_objects(bucket, prefix=prefix, recursive=True)
    ]
    for error in store.remove_objects(bucket, names):
        raise RuntimeError(f"could not remove a benchmark object: {error}")


async def measure_engines(  # noqa: PLR0917
    settings: PlatformSettings,
    temporal: Client,
    database_url: str,
    run_id: str,
    sizes: EngineSizes,
    progress: Callable[[str], None],
    temporal_pid: int | None = None,
) -> list[EngineResult]:
    """Measure each engine in turn. ``temporal_pid`` is the local Temporal server's
    process, whose CPU the empty workflows are charged with.
    """
    results: list[EngineResult] = []
    progress("Temporal: empty workflows")
    results.append(
        await temporal_empty_workflows(temporal, run_id, sizes, temporal_pid)
    )
    progress("Kafka: produce and consume")
    results.extend(await kafka_round_trip(settings, run_id, sizes))
    progress("PostgreSQL: inserts")
    results.append(await postgres_inserts(database_url, sizes))
    progress("S3: small PUTs")
    results.append(await s3_small_puts(settings, sizes))
    return results
