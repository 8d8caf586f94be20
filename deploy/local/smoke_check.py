"""Check the running local stack with the clients the application uses.

Reads the DINGZE_* client settings, with the defaults listed in README.md. Then
it produces and consumes one Kafka message and queries PostgreSQL with asyncpg.
It writes and reads an S3 object and checks that unsigned or wrongly signed
requests are rejected. Last, it describes the Temporal namespace default.
Exits 1 on the first failure.
"""

import asyncio
import io
import logging
import os
import sys
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from minio import Minio
from minio.error import S3Error
from temporalio.api.enums.v1 import NamespaceState
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

TIMEOUT_SECONDS = 30


class CheckFailedError(Exception):
    """A client reached the stack but got an unexpected result."""


def setting(name: str, default: str) -> str:
    return os.environ.get(name, default)


async def check_kafka() -> None:
    bootstrap = setting("DINGZE_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    topic = f"smoke-{uuid.uuid4().hex[:12]}"
    payload = uuid.uuid4().bytes

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    try:
        await producer.start()
        # The topic does not exist yet, so the broker creates it on first use.
        await producer.send_and_wait(topic, payload, key=b"smoke")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"{topic}-group",
        auto_offset_reset="earliest",
    )
    try:
        await consumer.start()
        message = await consumer.getone()
    finally:
        await consumer.stop()

    if message.value != payload:
        raise CheckFailedError(f"consumed {message.value!r}, produced {payload!r}")
    print(f"kafka: produced and consumed one message on {topic} via {bootstrap}")


async def check_postgres() -> None:
    url = setting("DINGZE_DATABASE_URL", "postgresql://dingze@127.0.0.1:15432/dingze")
    connection = await asyncpg.connect(url)
    try:
        user = await connection.fetchval("SELECT current_user")
        database = await connection.fetchval("SELECT current_database()")
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()

    if (user, database) != ("dingze", "dingze"):
        raise CheckFailedError(f"connected as {user} to {database}, not dingze")
    print(f"postgres: connected as {user} to {database}, server {version}")


def check_s3() -> None:
    endpoint = setting("DINGZE_S3_ENDPOINT", "127.0.0.1:18333")
    bucket = setting("DINGZE_S3_BUCKET", "dingze-evidence")
    access_key = setting("DINGZE_S3_ACCESS_KEY", "dingze")
    secret_key = setting("DINGZE_S3_SECRET_KEY", "dingze-local-secret")
    client = Minio(endpoint, access_key, secret_key, secure=False)
    key = f"smoke/{uuid.uuid4().hex}.bin"
    body = uuid.uuid4().bytes

    client.put_object(bucket, key, io.BytesIO(body), len(body))
    response = client.get_object(bucket, key)
    try:
        read_back = response.read()
    finally:
        response.close()
        response.release_conn()
    if read_back != body:
        raise CheckFailedError(
            f"read {read_back!r} from {bucket}/{key}, wrote {body!r}"
        )

    intruders = {
        "unsigned": Minio(endpoint, secure=False),
        "wrong secret": Minio(endpoint, access_key, "wrong-secret", secure=False),
    }
    rejections = []
    try:
        for label, intruder in intruders.items():
            try:
                intruder.stat_object(bucket, key)
            except S3Error as error:
                rejections.append(f"{label}: {error.code}")
            else:
                raise CheckFailedError(f"a request with {label} could read {key}")
    finally:
        client.remove_object(bucket, key)
    print(f"s3: wrote and read {bucket}/{key}, rejected {', '.join(rejections)}")


async def check_temporal() -> None:
    address = setting("DINGZE_TEMPORAL_ADDRESS", "127.0.0.1:17233")
    client = await Client.connect(address, namespace="default")
    response = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace="default")
    )
    state = NamespaceState.Name(response.namespace_info.state)
    print(f"temporal: connected to {address}, namespace default is {state}")


async def main() -> int:
    # aiokafka logs errors while the broker creates the new topic and the
    # consumer group's coordinator. A real failure raises instead.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)

    checks: list[Callable[[], Awaitable[None]]] = [
        check_kafka,
        check_postgres,
        lambda: asyncio.to_thread(check_s3),
        check_temporal,
    ]
    for check in checks:
        try:
            await asyncio.wait_for(check(), TIMEOUT_SECONDS)
        # Any exception of any client means the stack is not usable as configured.
        except Exception as error:
            print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
