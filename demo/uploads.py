"""A client of intake's resumable uploads: plan, send parts to storage, complete.

It does what the phone page does, for the demo, the tests and the benchmark. Each
part is read from the file when it is sent, so memory stays at the parts in flight.
"""

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

# The maximum number of part URLs intake presigns in one request.
URL_BATCH = 100


@dataclass(frozen=True)
class UploadClient:
    """Intake's upload API for one case, with the caller's bearer token."""

    http: httpx.AsyncClient
    intake: str
    case_id: UUID
    token: str

    @property
    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}

    def _url(self, path: str = "") -> str:
        return f"{self.intake}/cases/{self.case_id}/uploads{path}"

    async def create(
        self, kind: str, content_type: str, size_bytes: int
    ) -> httpx.Response:
        return await self.http.post(
            self._url(),
            json={"kind": kind, "content_type": content_type, "size_bytes": size_bytes},
            headers=self._headers,
        )

    async def get(self, upload_id: str) -> httpx.Response:
        return await self.http.get(self._url(f"/{upload_id}"), headers=self._headers)

    async def part_urls(self, upload_id: str, numbers: list[int]) -> httpx.Response:
        return await self.http.post(
            self._url(f"/{upload_id}/part-urls"),
            json={"part_numbers": numbers},
            headers=self._headers,
        )

    async def complete(
        self, upload_id: str, parts: list[dict[str, Any]] | None = None
    ) -> httpx.Response:
        return await self.http.post(
            self._url(f"/{upload_id}/complete"),
            json={} if parts is None else {"parts": parts},
            headers=self._headers,
        )

    async def abort(self, upload_id: str) -> httpx.Response:
        return await self.http.delete(self._url(f"/{upload_id}"), headers=self._headers)

    async def send_parts(
        self,
        upload: dict[str, Any],
        path: Path,
        numbers: list[int] | None = None,
        concurrency: int = 1,
    ) -> list[dict[str, Any]]:
        """PUT the given parts (all by default) of ``path`` to their presigned URLs.

        Sends up to ``concurrency`` parts at once, and returns the parts sent in
        order, with the ETag storage gave each.
        """
        numbers = numbers or list(range(1, upload["part_count"] + 1))
        slots = asyncio.Semaphore(concurrency)

        async def send(item: dict[str, Any]) -> dict[str, Any]:
            async with slots:
                offset = (item["part_number"] - 1) * upload["part_size"]
                data = await asyncio.to_thread(
                    _read_range, path, offset, item["size_bytes"]
                )
                put = await self.http.put(item["url"], content=data)
                put.raise_for_status()
            return {
                "part_number": item["part_number"],
                "size_bytes": len(data),
                "etag": put.headers["etag"].strip('"'),
            }

        sent: list[dict[str, Any]] = []
        # Intake presigns a limited batch per request; each batch is fetched just
        # before it is sent, so its URLs are fresh.
        for start in range(0, len(numbers), URL_BATCH):
            batch = numbers[start : start + URL_BATCH]
            response = await self.part_urls(upload["upload_id"], batch)
            response.raise_for_status()
            items = response.json()["urls"]
            sent += await asyncio.gather(*(send(item) for item in items))
        return sent

    async def upload_file(
        self, path: Path, kind: str, content_type: str
    ) -> httpx.Response:
        """Upload a whole file in parts and complete it; return the completion."""
        size = await asyncio.to_thread(lambda: path.stat().st_size)
        created = await self.create(kind, content_type, size)
        if created.status_code != 201:
            return created
        upload = created.json()
        parts = await self.send_parts(upload, path)
        return await self.complete(upload["upload_id"], parts)


def _read_range(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as file:
        file.seek(offset)
        return file.read(size)
