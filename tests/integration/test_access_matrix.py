"""Every operation of the four services, called by every kind of caller.

``MATRIX`` declares who may call each operation. The test reads the operations
from each service's OpenAPI document, so an operation added without a row fails
here. One ruled case, with claims opened and a reconsideration requested, serves
every cell. An allowed cell must return 2xx, or the error declared for it in
``ALLOWED_ERRORS``, which only a request past the access check can get. A denied
cell must return 401 (no credential, or one this endpoint does not accept) or 403
(a valid credential of the wrong role or case). No operation hides a case's
existence with 404, because the access check runs before any lookup.
"""

import asyncio
import base64
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from temporalio.client import Client

from common.settings import PlatformSettings
from contracts.events import ClaimAssessed, ClaimOpened
from contracts.review import REVIEW_STATE_QUERY, ReviewState, review_workflow_id
from contracts.webhooks import SIGNATURE_HEADER, sign
from demo.client import (
    LOCAL_AUXILIARY,
    LOCAL_OFFICER,
    LOCAL_OPERATOR,
    LOCAL_SUPERVISOR,
    PlatformClient,
    bearer,
    eligible_answers,
    sample_case,
    sample_ruling,
)
from identity.party_access import PartyGrant
from tests.support.insurers import (
    HAND_PLAYED_INSURERS,
    SignedInsurer,
    signed_insurer,
    wait_for_insurance_row,
)
from tests.support.phone import access_code, link_token, wait_for_sms
from tests.support.platform import PlatformProcesses

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

SERVICES = ("intake", "liability", "insurance", "notify")
# Columns: PA a party of this case, PB a party of another case, AX an auxiliary
# officer, OF an officer (not the one who ruled), SU a supervisor, OP an
# operator, IA insurer A (the insurer of party A, named in the path), IB insurer B,
# NO nobody. "x" marks an allowed cell and "." a denied one.
MATRIX = """
intake                                                    PA PB AX OF SU OP IA IB NO
GET    /healthz                                            x  x  x  x  x  x  x  x  x
POST   /cases/eligibility                                  x  x  x  x  x  x  x  x  x
POST   /cases                                              .  .  x  .  .  .  .  .  .
GET    /cases/{case_id}                                    x  .  x  .  .  .  .  .  .
PUT    /cases/{case_id}/video                              x  .  x  .  .  .  .  .  .
POST   /cases/{case_id}/submit                             x  .  x  .  .  .  .  .  .
POST   /cases/{case_id}/party-links                        .  .  x  .  .  .  .  .  .
POST   /access/code                                        x  x  .  .  .  .  .  .  .
POST   /access/session                                     x  x  .  .  .  .  .  .  .
POST   /cases/{case_id}/uploads                            x  .  x  .  .  .  .  .  .
GET    /cases/{case_id}/uploads                            x  .  x  .  .  .  .  .  .
GET    /cases/{case_id}/uploads/{upload_id}                x  .  x  .  .  .  .  .  .
POST   /cases/{case_id}/uploads/{upload_id}/part-urls      x  .  x  .  .  .  .  .  .
POST   /cases/{case_id}/uploads/{upload_id}/complete       x  .  x  .  .  .  .  .  .
DELETE /cases/{case_id}/uploads/{upload_id}                x  .  x  .  .  .  .  .  .
GET    /party/case                                         x  x  .  .  .  .  .  .  .
POST   /party/consent                                      x  x  .  .  .  .  .  .  .
GET    /cases/{case_id}/ruling                             x  .  .  .  .  .  .  .  .
GET    /cases/{case_id}/ruling/document                    x  .  .  .  .  .  .  .  .
POST   /cases/{case_id}/ruling/answer                      x  .  .  .  .  .  .  .  .
POST   /cases/{case_id}/ruling/reconsideration             x  .  .  .  .  .  .  .  .
GET    /cases/{case_id}/parties/{party_id}/settlement      x  .  .  .  .  .  .  .  .
POST   /cases/{case_id}/parties/{party_id}/settlement      x  .  .  .  .  .  .  .  .
POST   /access/sign-out                                    x  x  .  .  .  .  .  .  .

liability                                                 PA PB AX OF SU OP IA IB NO
GET    /healthz                                            x  x  x  x  x  x  x  x  x
GET    /auth/config                                        x  x  x  x  x  x  x  x  x
POST   /auth/sign-in                                       x  x  x  x  x  x  x  x  x
GET    /auth/me                                            .  .  x  x  x  x  .  .  .
GET    /cases                                              .  .  .  x  x  .  .  .  .
GET    /cases/{case_id}                                    .  .  .  x  x  .  .  .  .
POST   /cases/{case_id}/claim                              .  .  .  x  .  .  .  .  .
POST   /cases/{case_id}/claim/renew                        .  .  .  x  .  .  .  .  .
DELETE /cases/{case_id}/claim                              .  .  .  x  .  .  .  .  .
POST   /cases/{case_id}/evidence-request                   .  .  .  x  .  .  .  .  .
POST   /cases/{case_id}/ruling                             .  .  .  x  .  .  .  .  .
GET    /cases/{case_id}/document                           .  .  .  x  x  .  .  .  .
GET    /cases/{case_id}/document/pdf                       .  .  .  x  x  .  .  .  .
GET    /accident-types                                     .  .  .  x  x  .  .  .  .
POST   /documents/verify                                   x  x  x  x  x  x  x  x  x
POST   /documents/{document_number}/verify-pdf             x  x  x  x  x  x  x  x  x
GET    /documents/public-key                               x  x  x  x  x  x  x  x  x
GET    /reconsiderations                                   .  .  .  x  x  .  .  .  .
GET    /reconsiderations/{case_id}                         .  .  .  x  x  .  .  .  .
POST   /reconsiderations/{case_id}/decision                .  .  .  x  .  .  .  .  .
POST   /cases/{case_id}/reassign                           .  .  .  .  x  .  .  .  .
PUT    /cases/{case_id}/priority                           .  .  .  .  x  .  .  .  .
GET    /supervisor/overdue                                 .  .  .  .  x  .  .  .  .
GET    /audit                                              .  .  .  .  x  .  .  .  .
POST   /auth/sign-out                                      .  .  x  x  x  x  .  .  .

insurance                                                 PA PB AX OF SU OP IA IB NO
GET    /healthz                                            x  x  x  x  x  x  x  x  x
GET    /contracts/asyncapi.json                            x  x  x  x  x  x  x  x  x
GET    /contracts/schemas                                  x  x  x  x  x  x  x  x  x
GET    /contracts/schemas/{file_name}                      x  x  x  x  x  x  x  x  x
POST   /insurers/{insurer_code}/claim-events               .  .  .  .  .  .  x  .  .

notify                                                    PA PB AX OF SU OP IA IB NO
GET    /healthz                                            x  x  x  x  x  x  x  x  x
GET    /cases/{case_id}/messages                           .  .  .  .  x  x  .  .  .
POST   /sms/receipts                                       .  .  .  .  .  .  .  .  .
"""
ROLES = ("PA", "PB", "AX", "OF", "SU", "OP", "IA", "IB", "NO")
STAFF_ROLES = {"AX", "OF", "SU", "OP"}
PARTY_ROLES = {"PA", "PB"}

# Errors that allowed cells may return instead of 2xx. Each comes from a check
# that runs after the access check, on the shared case's state. The case is
# submitted and ruled by another officer, with its reconsideration requested and
# its claims open.
ALLOWED_ERRORS: dict[str, dict[int, set[str]]] = {
    "intake PUT /cases/{case_id}/video": {409: {"case_already_submitted"}},
    "intake POST /cases/{case_id}/party-links": {409: {"case_already_submitted"}},
    # A code was sent moments before, when the party signed in.
    "intake POST /access/code": {429: {"code_recently_sent"}},
    # The link's code was used already, unless the row above sent a new one.
    "intake POST /access/session": {409: {"code_not_requested"}},
    "intake POST /cases/{case_id}/uploads": {409: {"case_already_submitted"}},
    # The photo upload planned in the set-up has no parts in storage.
    "intake POST /cases/{case_id}/uploads/{upload_id}/complete": {
        409: {"parts_missing"}
    },
    # The first allowed caller aborts the upload, so the next finds it aborted.
    "intake DELETE /cases/{case_id}/uploads/{upload_id}": {410: {"upload_expired"}},
    "intake POST /cases/{case_id}/ruling/reconsideration": {
        409: {"ruling_answer_rejected"}
    },
    "liability POST /cases/{case_id}/claim": {409: {"case_not_in_queue"}},
    "liability POST /cases/{case_id}/claim/renew": {409: {"case_not_claimed"}},
    "liability DELETE /cases/{case_id}/claim": {409: {"case_not_claimed"}},
    "liability POST /cases/{case_id}/evidence-request": {409: {"case_not_claimed"}},
    "liability POST /cases/{case_id}/ruling": {409: {"case_already_ruled"}},
    "liability POST /cases/{case_id}/reassign": {409: {"case_not_in_queue"}},
    "liability PUT /cases/{case_id}/priority": {409: {"case_not_in_queue"}},
}
# Operations whose credential travels in the request itself: a link token in the
# body, a party session only, or an HMAC signature. Other callers present no
# credential these accept, so the rejection is 401.
CREDENTIAL_IN_REQUEST = {
    "intake POST /access/code",
    "intake POST /access/session",
    "intake POST /access/sign-out",
    "insurance POST /insurers/{insurer_code}/claim-events",
    "notify POST /sms/receipts",
}
# Sign-outs revoke the caller's token, so they run after every other operation.
LAST = {"intake POST /access/sign-out", "liability POST /auth/sign-out"}
PHONE_A = sample_case()["parties"][0]["phone"]
RULING_OFFICER = ("officer2", "officer2-local")


def parse_matrix(text: str) -> dict[str, set[str]]:
    """Return the allowed roles of each operation, keyed "service METHOD path"."""
    allowed: dict[str, set[str]] = {}
    service = ""
    for line in text.strip().splitlines():
        words = line.split()
        if not words:
            continue
        if words[1:] == list(ROLES):
            service = words[0]
            continue
        method, path, *marks = words
        assert len(marks) == len(ROLES), f"row {line!r} needs {len(ROLES)} marks"
        assert set(marks) <= {"x", "."}, f"row {line!r} has a mark not x or ."
        key = f"{service} {method} {path}"
        assert key not in allowed, f"{key} has two rows"
        allowed[key] = {
            role for role, mark in zip(ROLES, marks, strict=True) if mark == "x"
        }
    return allowed


@dataclass
class Caller:
    """What one role presents: a bearer token, a link token, an insurer secret."""

    token: str | None = None
    link: str | None = None
    insurer: SignedInsurer | None = None
    badge: str = ""
    # The delivery id of the code text the party signed in with.
    code_text: int = 0


@dataclass
class SharedCase:
    """The ruled case every cell acts on, and the callers."""

    case_id: UUID
    upload_id: UUID
    document_number: str
    insurer_a: SignedInsurer
    claim_body: bytes
    claim_number: str
    callers: dict[str, Caller] = field(default_factory=dict)


@dataclass
class Cell:
    operation: str
    role: str
    allowed: bool
    status: int
    code: str

    @property
    def passed_access(self) -> bool:
        if 200 <= self.status < 300:
            return True
        domain = ALLOWED_ERRORS.get(self.operation, {})
        return self.code in domain.get(self.status, set())


def _base_url(platform: PlatformProcesses, service: str) -> str:
    return f"http://127.0.0.1:{platform.env[f'DINGZE_{service.upper()}_PORT']}"


def _operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "delete", "patch"}
    ]


async def _sign_in(
    http: httpx.AsyncClient, liability: str, account: tuple[str, str]
) -> str:
    username, password = account
    response = await http.post(
        f"{liability}/auth/sign-in", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def _latest_delivery(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        latest: int = await connection.fetchval(
            "SELECT coalesce(max(delivery_id), 0) FROM notify.local_deliveries"
        )
    finally:
        await connection.close()
    return latest


async def _party_of_case(
    http: httpx.AsyncClient,
    intake: str,
    database_url: str,
    case_id: UUID,
    auxiliary: dict[str, str],
) -> Caller:
    """Sign party A of the case in from its SMS link and a code, with consent."""
    before = await _latest_delivery(database_url)
    sent = await http.post(f"{intake}/cases/{case_id}/party-links", headers=auxiliary)
    assert sent.status_code == 202, sent.text
    _, text = await wait_for_sms(database_url, case_id, "case_link", PHONE_A, before)
    link = link_token(text)
    requested = await http.post(f"{intake}/access/code", json={"link_token": link})
    assert requested.status_code == 202, requested.text
    code_text, text = await wait_for_sms(
        database_url, case_id, "party_access_code", PHONE_A, before
    )
    opened = await http.post(
        f"{intake}/access/session", json={"link_token": link, "code": access_code(text)}
    )
    assert opened.status_code == 200, opened.text
    token = opened.json()["session_token"]
    agreed = await http.post(f"{intake}/party/consent", headers=bearer(token))
    assert agreed.status_code == 200, agreed.text
    return Caller(token=token, link=link, code_text=code_text)


async def _until_status(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], what: str
) -> httpx.Response:
    deadline = time.monotonic() + 90
    while True:
        response = await http.get(url, headers=headers)
        if response.status_code == 200:
            return response
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen: {response.text}")
        await asyncio.sleep(0.3)


@pytest.fixture(scope="module")
async def shared_case(
    platform: PlatformProcesses, settings: PlatformSettings, video: Path
) -> SharedCase:
    """Drive one case to a ruling with claims, and sign every caller in."""
    urls = platform.urls
    database = settings.database_url
    insurer_a, insurer_b = (
        signed_insurer(platform, code) for code in HAND_PLAYED_INSURERS
    )
    async with httpx.AsyncClient(timeout=60) as http:
        tokens = {
            role: await _sign_in(http, urls.liability, account)
            for role, account in {
                "AX": LOCAL_AUXILIARY,
                "OF": LOCAL_OFFICER,
                "SU": LOCAL_SUPERVISOR,
                "OP": LOCAL_OPERATOR,
            }.items()
        }
        auxiliary = bearer(tokens["AX"])
        client = PlatformClient(urls, http)
        client.intake_headers = auxiliary
        await client.sign_in(*RULING_OFFICER)

        # The case and another one, each with party A signed in.
        insurers = (insurer_a.code, insurer_b.code)
        case_id = await client.open_case(sample_case(insurers))
        other_case = await client.open_case(sample_case(insurers))
        party = await _party_of_case(http, urls.intake, database, case_id, auxiliary)
        other = await _party_of_case(http, urls.intake, database, other_case, auxiliary)

        # A photo upload left open, then the video, the submission and the ruling.
        planned = await http.post(
            f"{urls.intake}/cases/{case_id}/uploads",
            json={"kind": "photo", "content_type": "image/jpeg", "size_bytes": 1000},
            headers=auxiliary,
        )
        assert planned.status_code == 201, planned.text
        uploaded = await client.upload_video(case_id, video)
        assert uploaded.status_code == 200, uploaded.text
        submitted = await client.submit(case_id)
        assert submitted.status_code == 200, submitted.text
        await client.wait_until_queued(case_id)
        claimed = await client.claim(case_id)
        assert claimed.status_code == 200, claimed.text
        ruled = await client.rule(case_id, {**sample_ruling(), "officer_id": "330199"})
        assert ruled.status_code == 200, ruled.text
        document = await _until_status(
            http,
            f"{urls.liability}/cases/{case_id}/document",
            client.staff_headers,
            "the ruling document",
        )

        # Both claims opened and party A's assessed. Party A requests reconsideration.
        claim_number = f"{insurer_a.code}-{str(case_id)[:8]}"
        opened = ClaimOpened(
            case_id=case_id, insurer_code=insurer_a.code, claim_number=claim_number
        )
        for insurer, event in (
            (insurer_a, opened),
            (
                insurer_b,
                ClaimOpened(
                    case_id=case_id,
                    insurer_code=insurer_b.code,
                    claim_number=f"{insurer_b.code}-{str(case_id)[:8]}",
                ),
            ),
        ):
            await wait_for_insurance_row(
                database, "notifications", case_id, insurer.code
            )
            await insurer.post(http, event)
            await wait_for_insurance_row(database, "claims", case_id, insurer.code)
        await insurer_a.post(
            http,
            ClaimAssessed(
                case_id=case_id,
                insurer_code=insurer_a.code,
                claim_number=claim_number,
                amount_cents=120_000,
                party_id="A",
            ),
        )
        await wait_for_sms(database, case_id, "settlement_link", PHONE_A)
        requested = await http.post(
            f"{urls.intake}/cases/{case_id}/ruling/reconsideration",
            json={"reason": "对方急刹，责任划分不当。"},
            headers=bearer(party.token or ""),
        )
        assert requested.status_code == 200, requested.text
        await _until_status(
            http,
            f"{urls.liability}/reconsiderations/{case_id}",
            bearer(tokens["SU"]),
            "the reconsideration request reaching liability",
        )

    return SharedCase(
        case_id=case_id,
        upload_id=UUID(planned.json()["upload_id"]),
        document_number=document.json()["document_number"],
        insurer_a=insurer_a,
        claim_body=json.dumps(
            {"topic": opened.topic, "event": opened.model_dump(mode="json")}
        ).encode(),
        claim_number=claim_number,
        callers={
            "PA": party,
            "PB": other,
            "AX": Caller(token=tokens["AX"], badge="330501"),
            "OF": Caller(token=tokens["OF"], badge="330102"),
            "SU": Caller(token=tokens["SU"], badge="330001"),
            "OP": Caller(token=tokens["OP"], badge="330901"),
            "IA": Caller(insurer=insurer_a),
            "IB": Caller(insurer=insurer_b),
            "NO": Caller(),
        },
    )


def _path(case: SharedCase, path: str) -> str:
    values = {
        "case_id": str(case.case_id),
        "party_id": "A",
        "upload_id": str(case.upload_id),
        "insurer_code": case.insurer_a.code,
        "file_name": "ClaimOpened.v1.json",
        "document_number": case.document_number,
    }
    for name, value in values.items():
        path = path.replace(f"{{{name}}}", value)
    assert "{" not in path, f"no value for a parameter of {path}"
    if path.endswith("/verify-pdf"):
        path += "?code=ABCD2345"
    return path


async def _body(
    operation: str, case: SharedCase, caller: Caller, database_url: str
) -> bytes | None:
    """Return the request body of ``operation`` as ``caller`` sends it."""
    link = caller.link or caller.token or "no-link-token-at-all"
    bodies: dict[str, Any] = {
        "intake POST /cases/eligibility": {
            "answers": eligible_answers(),
            "vehicles": 2,
        },
        "intake POST /cases": sample_case(),
        "intake POST /access/code": {"link_token": link},
        "intake POST /cases/{case_id}/uploads": {
            "kind": "photo",
            "content_type": "image/jpeg",
            "size_bytes": 1000,
        },
        "intake POST /cases/{case_id}/uploads/{upload_id}/part-urls": {
            "part_numbers": [1]
        },
        "intake POST /cases/{case_id}/uploads/{upload_id}/complete": {},
        "intake POST /cases/{case_id}/ruling/answer": {"answer": "acknowledged"},
        "intake POST /cases/{case_id}/ruling/reconsideration": {"reason": "再次申请。"},
        "intake POST /cases/{case_id}/parties/{party_id}/settlement": {
            "claim_number": case.claim_number,
            "consent": True,
            "account_holder": "张伟",
            "bank": "中国工商银行",
            "account_number": "6214 8301 2345 6789",
        },
        "liability POST /auth/sign-in": {
            "username": LOCAL_OPERATOR[0],
            "password": LOCAL_OPERATOR[1],
        },
        "liability POST /cases/{case_id}/evidence-request": {
            "instructions": "请补拍 B 车前部。"
        },
        "liability POST /cases/{case_id}/ruling": sample_ruling(),
        "liability POST /documents/verify": {
            "document_number": case.document_number,
            "code": "ABCD2345",
            "sha256": "0" * 64,
        },
        "liability POST /reconsiderations/{case_id}/decision": {
            "officer_id": caller.badge or "330102",
            "outcome": "confirmed",
            "reason": "现场视频显示 B 车追尾，原认定正确。",
        },
        "liability POST /cases/{case_id}/reassign": {"officer_badge": "330102"},
        "liability PUT /cases/{case_id}/priority": {"urgent": True},
        "notify POST /sms/receipts": {
            "message_id": "no-such-message",
            "status": "delivered",
        },
    }
    if operation == "intake POST /access/session":
        return json.dumps(
            {"link_token": link, "code": await _latest_code(caller, database_url)}
        ).encode()
    if operation == "intake PUT /cases/{case_id}/video":
        return b"\0" * 1024
    if operation == "liability POST /documents/{document_number}/verify-pdf":
        return b"%PDF-1.7 not the document"
    if operation == "insurance POST /insurers/{insurer_code}/claim-events":
        return case.claim_body
    if operation in bodies:
        return json.dumps(bodies[operation]).encode()
    return None


async def _latest_code(caller: Caller, database_url: str) -> str:
    """Return the code to send with the caller's link to ``POST /access/session``.

    The code texted at sign-in was used then. When the ``POST /access/code`` row
    texted a new one, this waits for that text. Otherwise it returns a made-up
    code, which intake rejects with ``code_not_requested`` once the link passed.
    """
    if caller.link is None:
        return "000000"
    payload = caller.link.split(".", maxsplit=1)[0]
    grant = PartyGrant.model_validate_json(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    connection = await asyncpg.connect(database_url)
    try:
        pending = await connection.fetchval(
            "SELECT confirmed_at IS NULL FROM intake.party_codes WHERE link_id = $1",
            grant.link_id,
        )
    finally:
        await connection.close()
    if not pending:
        return "000000"
    _, text = await wait_for_sms(
        database_url, grant.case_id, "party_access_code", PHONE_A, caller.code_text
    )
    return access_code(text)


def _headers(caller: Caller, body: bytes | None, operation: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    if caller.token is not None:
        headers.update(bearer(caller.token))
    if caller.insurer is not None and body is not None:
        headers[SIGNATURE_HEADER] = sign(caller.insurer.secret, int(time.time()), body)
    if body is not None:
        headers["content-type"] = (
            "video/mp4"
            if operation.endswith("/video")
            else "application/pdf"
            if operation.endswith("/verify-pdf")
            else "application/json"
        )
    return headers


def _expected_denial(operation: str, role: str) -> int:
    """Return the status expected from a denied cell."""
    service = operation.split(maxsplit=1)[0]
    if role == "NO" or role in {"IA", "IB"} or operation in CREDENTIAL_IN_REQUEST:
        return 401
    if role in PARTY_ROLES:
        # Only intake takes party sessions; elsewhere they are not tokens at all.
        return 403 if service == "intake" else 401
    # Staff: insurance takes no staff tokens.
    return 401 if service == "insurance" else 403


def _render(allowed: dict[str, set[str]], cells: dict[tuple[str, str], Cell]) -> str:
    """Return the observed matrix: each cell's status, with ! where it is wrong."""
    width = max(len(operation) for operation in allowed) + 1
    lines = ["operation".ljust(width) + " ".join(f"{role:>5}" for role in ROLES)]
    for operation in allowed:
        row = []
        for role in ROLES:
            cell = cells.get((operation, role))
            if cell is None:
                row.append(f"{'-':>5}")
                continue
            wrong = "" if _cell_ok(cell) else "!"
            row.append(f"{wrong}{cell.status}".rjust(5))
        lines.append(operation.ljust(width) + " ".join(row))
    return "\n".join(lines)


def _cell_ok(cell: Cell) -> bool:
    if cell.allowed:
        return cell.passed_access
    # A refusal names its reason, so a phone or a client can act on it.
    expected = _expected_denial(cell.operation, cell.role)
    return cell.status == expected and cell.code != ""


async def _call(
    http: httpx.AsyncClient,
    platform: PlatformProcesses,
    case: SharedCase,
    operation: str,
    role: str,
    allowed: bool,
    database_url: str,
) -> Cell:
    service, method, path = operation.split()
    caller = case.callers[role]
    body = await _body(operation, case, caller, database_url)
    response = await http.request(
        method,
        _base_url(platform, service) + _path(case, path),
        content=body,
        headers=_headers(caller, body, operation),
    )
    code = ""
    if response.headers.get("content-type", "").startswith("application/json"):
        detail = response.json()
        if isinstance(detail, dict) and isinstance(detail.get("detail"), dict):
            code = str(detail["detail"].get("code", ""))
    return Cell(operation, role, allowed, response.status_code, code)


async def _row_count(database_url: str, sql: str, *arguments: object) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        count: int = await connection.fetchval(sql, *arguments)
    finally:
        await connection.close()
    return count


async def test_access_matrix(
    platform: PlatformProcesses,
    settings: PlatformSettings,
    temporal: Client,
    shared_case: SharedCase,
) -> None:
    allowed = parse_matrix(MATRIX)
    database = settings.database_url
    cases_before = await _row_count(database, "SELECT count(*) FROM intake.cases")
    async with httpx.AsyncClient(timeout=60) as http:
        served = set()
        for service in SERVICES:
            document = (
                await http.get(f"{_base_url(platform, service)}/openapi.json")
            ).json()
            served |= {f"{service} {m} {p}" for m, p in _operations(document)}
        ordered = [op for op in allowed if op not in LAST] + [
            op for op in allowed if op in LAST
        ]
        cells: dict[tuple[str, str], Cell] = {}
        for operation in ordered:
            if operation not in served:
                continue
            for role in ROLES:
                cells[operation, role] = await _call(
                    http,
                    platform,
                    shared_case,
                    operation,
                    role,
                    role in allowed[operation],
                    settings.database_url,
                )

    cases_after = await _row_count(database, "SELECT count(*) FROM intake.cases")
    confirmations = await _row_count(
        database,
        "SELECT count(*) FROM intake.settlement_confirmations WHERE case_id = $1",
        shared_case.case_id,
    )
    review = await temporal.get_workflow_handle(
        review_workflow_id(shared_case.case_id)
    ).query(REVIEW_STATE_QUERY, result_type=ReviewState)

    report = _render(allowed, cells)
    assert served - set(allowed) == set(), f"operations without a row:\n{report}"
    assert set(allowed) - served == set(), f"rows of no operation:\n{report}"
    wrong = [cell for cell in cells.values() if not _cell_ok(cell)]
    details = "\n".join(
        f"{cell.operation} as {cell.role}: {cell.status} {cell.code}, expected "
        + (
            "access"
            if cell.allowed
            else str(_expected_denial(cell.operation, cell.role))
        )
        for cell in wrong
    )
    assert wrong == [], f"cells with the wrong answer:\n{details}\n\n{report}"
    # Denied calls change nothing: one case opened, one answer, one confirmation.
    assert cases_after == cases_before + 1
    assert confirmations == 1
    assert [answer.party_id for answer in review.answers] == ["A"]
