"""A small client for the platform's HTTP APIs, as a phone and an officer use them."""

import asyncio
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx


@dataclass(frozen=True)
class ServiceUrls:
    intake: str
    liability: str
    notify: str

    @classmethod
    def from_environment(cls) -> "ServiceUrls":
        """Return the services' addresses from the ports their settings read."""

        def url(service: str, default: int) -> str:
            port = os.environ.get(f"DINGZE_{service.upper()}_PORT", str(default))
            return f"http://127.0.0.1:{port}"

        return cls(
            intake=url("intake", 8101),
            liability=url("liability", 8102),
            notify=url("notify", 8104),
        )


def sample_case(insurers: tuple[str, str] = ("PICC", "PAIC")) -> dict[str, Any]:
    """Return a rear-end collision between two cars, as a reporter enters it."""
    return {
        "accident_at": (datetime.now(UTC) - timedelta(minutes=12)).isoformat(),
        "location": {
            "latitude": 30.27415,
            "longitude": 120.15515,
            "address": "杭州市西湖区文三路与学院路交叉口",
        },
        "description": "B 车追尾 A 车，仅车辆受损，无人受伤。",
        "eligibility": eligible_answers(),
        "parties": [
            {
                "name": "张伟",
                "phone": "13812345678",
                "plate": "浙A12345",
                "insurer_code": insurers[0],
                "policy_number": "PDAA2026330100001234",
            },
            {
                "name": "李娜",
                "phone": "13987654321",
                "plate": "浙B67890",
                "insurer_code": insurers[1],
                "policy_number": "ADZH2026330200005678",
            },
        ],
    }


def eligible_answers() -> dict[str, bool]:
    """Return the eligibility answers of an accident that may be settled remotely."""
    return {
        "anyone_injured": False,
        "injuries_slight_and_accepted": False,
        "suspected_impaired_driving": False,
        "licences_valid": True,
        "plates_present": True,
        "vehicles_can_move": True,
        "public_facilities_damaged": False,
        "party_left_scene": False,
        "suspected_deliberate": False,
    }


def sample_ruling() -> dict[str, Any]:
    return {
        "officer_id": "330102",
        "facts": "B 车未与前车保持安全距离，追尾停车等候信号的 A 车。",
        "rule_applied": "《道路交通安全法》第四十三条",
        "accident_type": "rear_end",
        "liabilities": [
            {"party_id": "A", "category": "none", "share": 0},
            {"party_id": "B", "category": "full", "share": 100},
        ],
    }


# The local staff file's development accounts (deploy/local/README.md lists them).
LOCAL_OFFICER = ("officer", "officer-local")
LOCAL_SUPERVISOR = ("supervisor", "supervisor-local")
LOCAL_AUXILIARY = ("auxiliary", "auxiliary-local")
LOCAL_OPERATOR = ("operator", "operator-local")


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


class PlatformClient:
    """The platform's APIs, each called with the token of the role that uses it.

    ``staff_headers`` carry the liability officer's or supervisor's token,
    ``intake_headers`` an auxiliary officer's (who opens, films and submits cases)
    and ``notify_headers`` an operator's (who reads the texts sent).
    """

    def __init__(self, urls: ServiceUrls, http: httpx.AsyncClient) -> None:
        self.urls = urls
        self.http = http
        self.staff_headers: dict[str, str] = {}
        self.intake_headers: dict[str, str] = {}
        self.notify_headers: dict[str, str] = {}

    async def request_token(self, username: str, password: str) -> dict[str, Any]:
        """Sign in at the liability service and return the token and principal."""
        response = await self.http.post(
            f"{self.urls.liability}/auth/sign-in",
            json={"username": username, "password": password},
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def sign_in(self, username: str, password: str) -> dict[str, Any]:
        """Sign in and send the token on later calls to the liability service."""
        result = await self.request_token(username, password)
        self.staff_headers = bearer(result["access_token"])
        return result

    async def sign_in_scene_and_support(
        self,
        auxiliary: tuple[str, str] = LOCAL_AUXILIARY,
        operator: tuple[str, str] = LOCAL_OPERATOR,
    ) -> None:
        """Sign in the auxiliary officer for intake and the operator for notify."""
        signed_in = await self.request_token(*auxiliary)
        self.intake_headers = bearer(signed_in["access_token"])
        signed_in = await self.request_token(*operator)
        self.notify_headers = bearer(signed_in["access_token"])

    async def open_case(
        self, case: dict[str, Any], headers: dict[str, str] | None = None
    ) -> UUID:
        response = await self.http.post(
            f"{self.urls.intake}/cases",
            json=case,
            headers=self.intake_headers if headers is None else headers,
        )
        response.raise_for_status()
        return UUID(response.json()["case_id"])

    async def intake_case(self, case_id: UUID | str) -> httpx.Response:
        """Return intake's view of the case, read with the auxiliary officer's token."""
        return await self.http.get(
            f"{self.urls.intake}/cases/{case_id}", headers=self.intake_headers
        )

    async def send_party_links(self, case_id: UUID | str) -> httpx.Response:
        return await self.http.post(
            f"{self.urls.intake}/cases/{case_id}/party-links",
            headers=self.intake_headers,
        )

    async def upload_video(self, case_id: UUID, video: Path) -> httpx.Response:
        with video.open("rb") as file:
            return await self.http.put(
                f"{self.urls.intake}/cases/{case_id}/video",
                content=file.read(),
                headers={"content-type": "video/mp4", **self.intake_headers},
            )

    async def submit(self, case_id: UUID) -> httpx.Response:
        return await self.http.post(
            f"{self.urls.intake}/cases/{case_id}/submit", headers=self.intake_headers
        )

    async def wait_until_queued(
        self, case_id: UUID, wait_seconds: float = 60.0, poll: float = 0.2
    ) -> dict[str, Any]:
        """Poll the officer queue until the case shows up, then open it."""
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            response = await self.http.get(
                f"{self.urls.liability}/cases/{case_id}", headers=self.staff_headers
            )
            if response.status_code == 200:
                result: dict[str, Any] = response.json()
                return result
            await asyncio.sleep(poll)
        raise TimeoutError(
            f"case {case_id} did not reach the officer queue in {wait_seconds} s"
        )

    async def queue(self) -> list[dict[str, Any]]:
        response = await self.http.get(
            f"{self.urls.liability}/cases", headers=self.staff_headers
        )
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    async def open_case_file(self, case_id: UUID) -> dict[str, Any]:
        response = await self.http.get(
            f"{self.urls.liability}/cases/{case_id}", headers=self.staff_headers
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def claim(self, case_id: UUID) -> httpx.Response:
        return await self.http.post(
            f"{self.urls.liability}/cases/{case_id}/claim", headers=self.staff_headers
        )

    async def renew(self, case_id: UUID) -> httpx.Response:
        return await self.http.post(
            f"{self.urls.liability}/cases/{case_id}/claim/renew",
            headers=self.staff_headers,
        )

    async def release(self, case_id: UUID) -> httpx.Response:
        return await self.http.delete(
            f"{self.urls.liability}/cases/{case_id}/claim", headers=self.staff_headers
        )

    async def wait_for_overdue(
        self, case_id: UUID, wait_seconds: float = 30.0
    ) -> dict[str, Any]:
        """Poll the supervisors' list of overdue cases until the case shows up."""
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            response = await self.http.get(
                f"{self.urls.liability}/supervisor/overdue", headers=self.staff_headers
            )
            response.raise_for_status()
            for item in response.json():
                if item["case_id"] == str(case_id):
                    found: dict[str, Any] = item
                    return found
            await asyncio.sleep(0.2)
        raise TimeoutError(
            f"case {case_id} was not listed as overdue in {wait_seconds} s"
        )

    async def request_evidence(
        self, case_id: UUID, instructions: str
    ) -> httpx.Response:
        return await self.http.post(
            f"{self.urls.liability}/cases/{case_id}/evidence-request",
            json={"instructions": instructions},
            headers=self.staff_headers,
        )

    async def rule(self, case_id: UUID, ruling: dict[str, Any]) -> httpx.Response:
        return await self.http.post(
            f"{self.urls.liability}/cases/{case_id}/ruling",
            json=ruling,
            headers=self.staff_headers,
        )

    async def messages_after(
        self, case_id: UUID, template: str, count: int, wait_seconds: float = 30.0
    ) -> list[dict[str, Any]]:
        """Return the case's messages once ``count`` of ``template`` have been sent.

        The workflow can finish before the notify service sends the last message.
        """
        deadline = time.monotonic() + wait_seconds
        while True:
            messages = await self.messages(case_id)
            sent = [m for m in messages if m["template"] == template and m["sent_at"]]
            if len(sent) >= count or time.monotonic() > deadline:
                return messages
            await asyncio.sleep(0.2)

    async def messages(self, case_id: UUID) -> list[dict[str, Any]]:
        response = await self.http.get(
            f"{self.urls.notify}/cases/{case_id}/messages", headers=self.notify_headers
        )
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result
