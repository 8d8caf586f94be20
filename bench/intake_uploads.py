"""``make bench-intake``: intake's memory and throughput for large phone uploads.

For each size (100 MiB and 1 GiB by default) this uploads one video through the
presigned multipart path, as the phone page does, while sampling intake's resident
memory, and then PUTs the same file to the same storage as one raw presigned PUT.
It prints a table with intake's peak memory per size and the throughput ratio, and
writes it with the raw figures to ``bench-results/intake-uploads-<time>.{txt,json}``.

The videos are a real 8 s H.264 MP4 padded with a top-level ``free`` box of random
bytes. FFmpeg skips the box, so the container checks pass, while intake still
streams every byte for the SHA-256 and storage stores every byte.
"""

import argparse
import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.resources import ResourceSampler
from common.multipart import MultipartStorage
from demo.client import sample_case
from demo.uploads import UploadClient
from evidence.sample_video import write_walkaround_video
from identity.party_access import PartyTokens
from services.intake.settings import IntakeSettings

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
READ_CHUNK = 4 * MIB
# Parts in flight at once, as S3 clients send them; the phone page sends one.
PART_CONCURRENCY = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def padded_video(folder: Path, size_mib: int) -> Path:
    """Write a real short MP4 padded with a ``free`` box to ``size_mib`` MiB."""
    base = write_walkaround_video(folder / "base.mp4", seconds=8)
    data = base.read_bytes()
    path = folder / f"scene-{size_mib}mib.mp4"
    padding = size_mib * MIB - len(data)
    block = os.urandom(MIB)
    with path.open("wb") as file:
        file.write(data)
        # A box with size field 1 carries its real size in the next 8 bytes.
        file.write(struct.pack(">I4sQ", 1, b"free", padding))
        left = padding - 16
        while left > 0:
            file.write(block[: min(left, MIB)])
            left -= MIB
    return path


def start_intake(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "services.intake"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def wait_healthy(http: httpx.AsyncClient, url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if (await http.get(f"{url}/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.3)
    raise TimeoutError(f"intake did not become healthy at {url} in {seconds} s")


async def party_client(
    http: httpx.AsyncClient, url: str, settings: IntakeSettings
) -> UploadClient:
    """Open a case and sign in as its party A with a session signed like intake's."""
    opened = await http.post(f"{url}/cases", json=sample_case())
    opened.raise_for_status()
    case_id = opened.json()["case_id"]
    tokens = PartyTokens(settings.party_access_policy())
    now = datetime.now(UTC)
    link = tokens.read(tokens.issue_link(case_id, "A", now), "link", now)
    token, _ = tokens.issue_session(link, now)
    consent = await http.post(
        f"{url}/party/consent", headers={"authorization": f"Bearer {token}"}
    )
    consent.raise_for_status()
    return UploadClient(http, url, case_id, token)


async def presigned_upload(
    uploads: UploadClient, path: Path, size: int
) -> dict[str, float]:
    """Upload through intake's presigned parts; time the parts and the completion."""
    started = time.monotonic()
    created = await uploads.create("video", "video/mp4", size)
    created.raise_for_status()
    upload = created.json()
    parts = await uploads.send_parts(upload, path, concurrency=PART_CONCURRENCY)
    sent = time.monotonic()
    completed = await uploads.complete(upload["upload_id"], parts)
    if completed.status_code != 200:
        raise RuntimeError(f"completion failed: {completed.text}")
    finished = time.monotonic()
    return {
        "parts_seconds": sent - started,
        "completion_seconds": finished - sent,
        "total_seconds": finished - started,
    }


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while chunk := await asyncio.to_thread(file.read, READ_CHUNK):
            yield chunk


async def raw_put(
    http: httpx.AsyncClient, storage: MultipartStorage, path: Path, size: int
) -> float:
    """PUT the whole file to storage in one presigned request; return seconds."""
    key = f"bench/raw-{path.name}"
    url = storage.object_put_url(key, timedelta(minutes=30))
    started = time.monotonic()
    response = await http.put(
        url,
        content=_file_chunks(path),
        headers={"content-length": str(size)},
    )
    response.raise_for_status()
    seconds = time.monotonic() - started
    await storage.remove(key)
    return seconds


async def measure(sizes: list[int], folder: Path, log: Path) -> dict[str, Any]:
    port = free_port()
    env = {
        **os.environ,
        "DINGZE_INTAKE_PORT": str(port),
        "DINGZE_KAFKA_TOPIC_PREFIX": "bench-intake.",
    }
    settings = IntakeSettings(intake_port=port)
    storage = MultipartStorage(settings)
    url = f"http://127.0.0.1:{port}"
    intake = start_intake(env, log)
    rows = []
    try:
        async with httpx.AsyncClient(timeout=600) as http:
            await wait_healthy(http, url, 90)
            for size_mib in sizes:
                path = await asyncio.to_thread(padded_video, folder, size_mib)
                size = size_mib * MIB
                uploads = await party_client(http, url, settings)
                idle_mb = psutil.Process(intake.pid).memory_info().rss / MIB
                with ResourceSampler({"intake": intake.pid}, interval=0.1) as sampler:
                    timing = await presigned_upload(uploads, path, size)
                raw_seconds = await raw_put(http, storage, path, size)
                rows.append(
                    {
                        "size_mib": size_mib,
                        "intake_idle_rss_mb": round(idle_mb, 1),
                        "intake_peak_rss_mb": round(
                            sampler.usage["intake"].peak_rss_mb, 1
                        ),
                        **{key: round(value, 2) for key, value in timing.items()},
                        "raw_put_seconds": round(raw_seconds, 2),
                    }
                )
                await asyncio.to_thread(path.unlink)
    finally:
        intake.terminate()
        intake.wait(timeout=30)
    return {"measured_at": datetime.now(UTC).isoformat(), "uploads": rows}


def render(results: dict[str, Any]) -> str:
    lines = [
        "Intake uploads: presigned multipart path against one raw PUT to storage",
        f"{'size':>8} {'intake RSS idle':>16} {'peak':>8} {'parts':>9} "
        f"{'complete':>9} {'presigned':>10} {'raw PUT':>9} {'ratio':>6}",
    ]
    for row in results["uploads"]:
        size = row["size_mib"]
        presigned = size / row["total_seconds"]
        raw = size / row["raw_put_seconds"]
        lines.append(
            f"{size:>5} MiB {row['intake_idle_rss_mb']:>13.1f} MB "
            f"{row['intake_peak_rss_mb']:>5.1f} MB {row['parts_seconds']:>7.1f} s "
            f"{row['completion_seconds']:>7.1f} s {presigned:>6.1f} MB/s "
            f"{raw:>5.1f} MB/s {presigned / raw:>6.2f}"
        )
    lines.append(
        "presigned = parts sent and upload completed (hash and checks included); "
        "ratio = presigned / raw PUT throughput"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100, 1024], help="Sizes in MiB"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    with tempfile.TemporaryDirectory(prefix="dingze-bench-intake-") as folder:
        results = asyncio.run(
            measure(args.sizes, Path(folder), args.out / f"intake-{stamp}.log")
        )
    text = render(results)
    print(text)
    (args.out / f"intake-uploads-{stamp}.txt").write_text(text + "\n")
    (args.out / f"intake-uploads-{stamp}.json").write_text(
        json.dumps(results, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
