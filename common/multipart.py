"""S3 multipart uploads that clients send straight to storage with presigned URLs.

The minio client keeps the multipart calls (create, list parts, complete, abort)
private, since its own uploads drive them. They are stable across minio 7.2 and are
used here with their S3 meanings. Every call runs in a worker thread.
"""

import asyncio
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from minio import Minio
from minio.datatypes import Part
from minio.error import S3Error

from common.bucket_cors import allow_origin
from common.settings import PlatformSettings

HASH_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class StoredPart:
    part_number: int
    size: int
    etag: str


class UploadNotFoundError(Exception):
    """Storage has no such multipart upload: completed, aborted or never created."""


def _client(settings: PlatformSettings, endpoint: str, secure: bool) -> Minio:
    return Minio(
        endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        secure=secure,
        # With a fixed region, minio presigns offline instead of requesting the region.
        region="us-east-1",
    )


class MultipartStorage:
    """Multipart uploads and ranged reads in the evidence bucket."""

    def __init__(self, settings: PlatformSettings) -> None:
        self._client = _client(settings, settings.s3_endpoint, settings.s3_secure)
        public = settings.s3_public_url or (
            f"{'https' if settings.s3_secure else 'http'}://{settings.s3_endpoint}"
        )
        parts = urlsplit(public)
        # Presigned URLs name the host the phone reaches, which is signed with them.
        self._signer = _client(settings, parts.netloc, parts.scheme == "https")
        self.bucket = settings.s3_bucket

    async def allow_origin(self, origin: str) -> bool:
        """Let pages of ``origin`` PUT parts to the bucket (its CORS rule)."""
        return await asyncio.to_thread(allow_origin, self._client, self.bucket, origin)

    async def create(self, key: str, content_type: str) -> str:
        return await asyncio.to_thread(
            self._client._create_multipart_upload,
            self.bucket,
            key,
            {"Content-Type": content_type},
        )

    def part_url(
        self, key: str, upload_id: str, part_number: int, expires: timedelta
    ) -> str:
        return self._signer.get_presigned_url(
            "PUT",
            self.bucket,
            key,
            expires=expires,
            extra_query_params={"partNumber": str(part_number), "uploadId": upload_id},
        )

    def object_put_url(self, key: str, expires: timedelta) -> str:
        """Presign one PUT of a whole object, outside any multipart upload."""
        return self._signer.presigned_put_object(self.bucket, key, expires=expires)

    async def list_parts(self, key: str, upload_id: str) -> list[StoredPart]:
        return await asyncio.to_thread(self._list_parts, key, upload_id)

    def _list_parts(self, key: str, upload_id: str) -> list[StoredPart]:
        parts: list[StoredPart] = []
        marker: str | None = None
        while True:
            try:
                page = self._client._list_parts(
                    self.bucket, key, upload_id, part_number_marker=marker
                )
            except S3Error as error:
                if error.code == "NoSuchUpload":
                    raise UploadNotFoundError(upload_id) from error
                raise
            parts += [
                StoredPart(p.part_number, p.size or 0, p.etag.strip('"'))
                for p in page.parts
            ]
            if not page.is_truncated:
                return parts
            marker = page.next_part_number_marker

    async def complete(self, key: str, upload_id: str, parts: list[StoredPart]) -> None:
        await asyncio.to_thread(
            self._client._complete_multipart_upload,
            self.bucket,
            key,
            upload_id,
            [Part(part.part_number, part.etag) for part in parts],
        )

    async def abort(self, key: str, upload_id: str) -> None:
        try:
            await asyncio.to_thread(
                self._client._abort_multipart_upload, self.bucket, key, upload_id
            )
        except S3Error as error:
            if error.code != "NoSuchUpload":
                raise

    async def read_range(self, key: str, offset: int, length: int) -> bytes:
        return await asyncio.to_thread(self.read_range_sync, key, offset, length)

    def read_range_sync(self, key: str, offset: int, length: int) -> bytes:
        response = self._client.get_object(
            self.bucket, key, offset=offset, length=length
        )
        try:
            return bytes(response.read())
        finally:
            response.close()
            response.release_conn()

    async def sha256(self, key: str) -> tuple[str, int]:
        """Stream the object once and return its SHA-256 and size."""
        return await asyncio.to_thread(self._sha256, key)

    def _sha256(self, key: str) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        for chunk in self._stream(key):
            digest.update(chunk)
            size += len(chunk)
        return digest.hexdigest(), size

    def _stream(self, key: str) -> Iterator[bytes]:
        response = self._client.get_object(self.bucket, key)
        try:
            yield from response.stream(HASH_CHUNK_BYTES)
        finally:
            response.close()
            response.release_conn()

    async def remove(self, key: str) -> None:
        await asyncio.to_thread(self._client.remove_object, self.bucket, key)
