"""Evidence objects in S3-compatible storage, through the synchronous minio client.

Every call runs in a worker thread so that it never stalls the event loop.
"""

import asyncio
import hashlib
import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from minio import Minio

from common.settings import PlatformSettings

_CHUNK_BYTES = 1024 * 1024


class EvidenceStore:
    """The evidence bucket."""

    def __init__(self, settings: PlatformSettings) -> None:
        self._client = Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            secure=settings.s3_secure,
            region="us-east-1",
        )
        self.bucket = settings.s3_bucket

    async def put_file(
        self, key: str, path: Path, content_type: str, sha256: str
    ) -> None:
        await asyncio.to_thread(
            self._client.fput_object,
            self.bucket,
            key,
            str(path),
            content_type=content_type,
            metadata={"sha256": sha256},
        )

    async def get_file(self, key: str, path: Path) -> None:
        await asyncio.to_thread(self._client.fget_object, self.bucket, key, str(path))

    async def presigned_get_url(self, key: str, expires: timedelta) -> str:
        return await asyncio.to_thread(
            self._client.presigned_get_object, self.bucket, key, expires=expires
        )

    async def put_bytes(
        self, key: str, data: bytes, content_type: str, sha256: str
    ) -> None:
        await asyncio.to_thread(
            self._client.put_object,
            self.bucket,
            key,
            io.BytesIO(data),
            len(data),
            content_type=content_type,
            metadata={"sha256": sha256},
        )

    async def sha256_of(
        self, key: str, progress: Callable[[int], None] | None = None
    ) -> tuple[str, int]:
        """Stream the object through SHA-256; return its hex digest and size.

        ``progress`` gets the bytes read so far after each chunk, from a worker
        thread. Raises minio's S3Error, for example NoSuchKey.
        """
        return await asyncio.to_thread(self._sha256_of, key, progress)

    def _sha256_of(
        self, key: str, progress: Callable[[int], None] | None
    ) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        response = self._client.get_object(self.bucket, key)
        try:
            for chunk in response.stream(_CHUNK_BYTES):
                digest.update(chunk)
                size += len(chunk)
                if progress is not None:
                    progress(size)
        finally:
            response.close()
            response.release_conn()
        return digest.hexdigest(), size

    async def get_bytes(self, key: str) -> bytes:
        def read() -> bytes:
            response = self._client.get_object(self.bucket, key)
            try:
                data: bytes = response.read()
                return data
            finally:
                response.close()
                response.release_conn()

        return await asyncio.to_thread(read)

    async def list_keys(self, prefix: str) -> list[str]:
        def names() -> list[str]:
            return [
                item.object_name
                for item in self._client.list_objects(
                    self.bucket, prefix=prefix, recursive=True
                )
            ]

        return await asyncio.to_thread(names)
