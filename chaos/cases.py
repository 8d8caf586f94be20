"""One case driven through the whole path while engines and processes crash.

The auxiliary officer opens the case and uploads the scene video, the officer
rules, and party B confirms the assessed claim from the settlement link in its
text, through the demo's clients. Each step is tried again while the platform
responds that something is down (connection refused, 5xx, an engine error), the
way a phone or a workbench retries, until the run's drain deadline.
"""

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
import httpx
from temporalio.client import Client, WorkflowExecutionStatus

from common.outages import is_unavailable
from contracts.workflow import CaseOutcome, case_workflow_id
from demo.client import PlatformClient, sample_case, sample_ruling
from demo.party import SAMPLE_PAYEE, PartyPhone, PartySession, claim_to_confirm
from demo.sms import access_code, link_token, wait_for_sms

T = TypeVar("T")
# Insurers that assess a claim and wait for the party's confirmation, both under
# the test session's simulator settings and under the default ones.
CASE_INSURERS = ("CPIC", "CLPC")
# Party B is fully liable in the sample ruling, so its insurer assesses a claim.
CONFIRMING_PARTY = 1


class StepFailedError(Exception):
    """A step got a response that retrying cannot change."""


class TryAgainError(Exception):
    """A step must start over, as after a one-time code that no longer works."""


@dataclass
class Deadline:
    """When the cases stop retrying: unset until the run starts to drain."""

    at: float = math.inf

    def passed(self) -> bool:
        return time.monotonic() > self.at


@dataclass
class ChaosCase:
    """One case of the run: how far its driver got, and its retries."""

    index: int
    case_id: UUID | None = None
    step: str = "not started"
    outcome: str | None = None
    error: str | None = None
    retries: int = 0
    phones: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.outcome == "settled"


def _retryable(error: BaseException) -> bool:
    # asyncpg raises InternalClientError when it closes a connection whose query
    # a PostgreSQL crash cut off; the next attempt opens a new connection.
    if isinstance(error, TryAgainError | asyncpg.InternalClientError):
        return True
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code >= 500
    if isinstance(error, httpx.TransportError):
        return True
    return is_unavailable(error)


def _check(response: httpx.Response, *accepted: int) -> httpx.Response:
    if response.status_code in accepted:
        return response
    if response.status_code >= 500:
        response.raise_for_status()
    raise StepFailedError(
        f"{response.request.method} {response.request.url.path} responded "
        f"{response.status_code}: {response.text[:300]}"
    )


class CaseDriver:
    """Drives cases to settled claims, retrying each step through outages."""

    def __init__(
        self,
        client: PlatformClient,
        temporal: Client,
        database_url: str,
        video: Path,
        deadline: Deadline,
    ) -> None:
        self.client = client
        self.temporal = temporal
        self.database_url = database_url
        self.video = video
        self.deadline = deadline
        self.phone = PartyPhone(client.http, client.urls.intake)

    async def _retry(self, case: ChaosCase, action: Callable[[], Awaitable[T]]) -> T:
        pause = 0.5
        while True:
            try:
                return await action()
            except Exception as error:
                if not _retryable(error) or self.deadline.passed():
                    raise
                case.retries += 1
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)

    async def drive(self, case: ChaosCase) -> None:
        """Drive one case to its end; the case records where it stopped and why."""
        try:
            await self._drive(case)
        except Exception as error:
            case.error = f"{type(error).__name__}: {error}"[:400]

    async def _drive(self, case: ChaosCase) -> None:
        details = sample_case(CASE_INSURERS)
        for party in details["parties"]:
            party["phone"] = f"1{random.choice('3589')}{random.randrange(10**9):09d}"
        case.phones = [party["phone"] for party in details["parties"]]

        case.step = "opening"
        case_id = await self._retry(case, lambda: self.client.open_case(details))
        case.case_id = case_id
        case.step = "uploading the video"
        await self._retry(
            case,
            lambda: self._call(self.client.upload_video(case_id, self.video), 200),
        )
        case.step = "submitting"
        await self._retry(case, lambda: self._call(self.client.submit(case_id), 200))

        case.step = "waiting for the officer queue"
        await self._retry(case, lambda: self._queued(case_id))
        case.step = "claiming"
        await self._retry(case, lambda: self._call(self.client.claim(case_id), 200))
        case.step = "ruling"
        ruling = sample_ruling()
        await self._retry(
            case, lambda: self._call(self.client.rule(case_id, ruling), 200)
        )

        case.step = "waiting for the settlement link"
        phone = case.phones[CONFIRMING_PARTY]
        delivery, text = await self._retry(
            case,
            lambda: wait_for_sms(self.database_url, case_id, "settlement_link", phone),
        )
        case.step = "confirming the settlement"
        await self._retry(
            case, lambda: self._confirm(case_id, phone, link_token(text), delivery)
        )

        case.step = "waiting for the settled case"
        case.outcome = await self._retry(case, lambda: self._outcome(case_id))
        case.step = "finished" if case.finished else f"closed as {case.outcome}"

    async def _call(
        self, request: Awaitable[httpx.Response], *accepted: int
    ) -> httpx.Response:
        return _check(await request, *accepted)

    async def _queued(self, case_id: UUID) -> None:
        """Wait until liability lists the case; 404 means not yet."""
        while not self.deadline.passed():
            response = await self.client.http.get(
                f"{self.client.urls.liability}/cases/{case_id}",
                headers=self.client.staff_headers,
            )
            if _check(response, 200, 404).status_code == 200:
                return
            await asyncio.sleep(0.5)
        raise TimeoutError(f"case {case_id} never reached the officer queue")

    async def _confirm(
        self, case_id: UUID, phone: str, link: str, after_delivery: int
    ) -> None:
        """Sign in from the settlement link and confirm the assessed claim once."""
        # 429: a code was texted within the minute, so the newest text contains it.
        _check(await self.phone.request_code(link), 200, 202, 429)
        _, text = await wait_for_sms(
            self.database_url, case_id, "party_access_code", phone, after_delivery
        )
        signed_in = await self.client.http.post(
            f"{self.client.urls.intake}/access/session",
            json={"link_token": link, "code": access_code(text)},
        )
        if signed_in.status_code in (400, 401, 409, 422, 429):
            # An earlier attempt used the code, or a newer code replaced it. Intake
            # texts a fresh code once a minute has passed since the last one.
            raise TryAgainError(f"code not accepted: {_code(signed_in)}")
        body = _check(signed_in, 200).json()
        session = PartySession(
            token=body["session_token"],
            case_id=UUID(body["case_id"]),
            party_id=body["party_id"],
        )
        view = _check(await self.phone.settlement(session), 200).json()
        if any(claim["confirmation"] for claim in view["claims"]):
            return
        claim = claim_to_confirm(view)
        form = {"claim_number": claim["claim_number"], "consent": True, **SAMPLE_PAYEE}
        confirmed = await self.phone.confirm(session, form)
        if confirmed.status_code == 409 and _code(confirmed) in (
            "settlement_already_confirmed",
            "claim_closed",
            "case_closed",
        ):
            return
        _check(confirmed, 200)

    async def _outcome(self, case_id: UUID) -> str:
        """Wait for the workflow's result and return its outcome."""
        while not self.deadline.passed():
            handle = self.temporal.get_workflow_handle(
                case_workflow_id(case_id), result_type=CaseOutcome
            )
            description = await handle.describe()
            if description.status == WorkflowExecutionStatus.COMPLETED:
                outcome = await handle.result()
                assert isinstance(outcome, CaseOutcome)
                return outcome.outcome
            if description.status != WorkflowExecutionStatus.RUNNING:
                raise StepFailedError(f"workflow ended as {description.status}")
            await asyncio.sleep(0.5)
        raise TimeoutError(f"case {case_id} did not settle before the deadline")


def _code(response: httpx.Response) -> str | None:
    try:
        detail: Any = response.json().get("detail")
    except ValueError:
        return None
    return detail.get("code") if isinstance(detail, dict) else None
