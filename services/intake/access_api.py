"""Party access over HTTP: send a case's SMS links, send a code, open a session."""

import math
import uuid
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import structlog
from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, Field

from common.http import problem
from contracts.case import Party
from contracts.events import SmsRequested
from identity.api import client_address
from identity.attempts import Attempt, AttemptGuard, TooManyAttemptsError
from identity.party_access import PartyAccessError, PartyGrant
from services.intake.callers import AuxiliaryOfficer, Credentials, Runtime, read_session
from services.intake.problems import (
    ERRORS,
    already_submitted,
    case_not_found,
    problem_response,
    sent_on_scene,
)

router = APIRouter(tags=["party access"])
log = structlog.get_logger(__name__)
LinkToken = Annotated[str, Field(min_length=10, max_length=1000)]


class LinksSent(BaseModel):
    case_id: UUID
    party_ids: list[str]


class CodeRequest(BaseModel):
    link_token: LinkToken


class CodeSent(BaseModel):
    case_id: UUID
    party_id: str
    phone_masked: str
    expires_in_seconds: int


class SessionRequest(BaseModel):
    link_token: LinkToken
    code: str = Field(pattern=r"^[0-9]{6}$", description="The 6-digit code sent by SMS")


class PartySession(BaseModel):
    session_token: str
    case_id: UUID
    party_id: str
    expires_at: datetime


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


def _refusal(error: PartyAccessError) -> Exception:
    return problem_response(
        error.status_code, error.code, error.message, error.message_zh
    )


@router.post(
    "/cases/{case_id}/party-links",
    status_code=status.HTTP_202_ACCEPTED,
    responses=ERRORS,
)
async def send_party_links(
    case_id: UUID, officer: AuxiliaryOfficer, runtime: Runtime
) -> LinksSent:
    """Text each party a link to the phone page, bound to the case and that party.

    Only an auxiliary officer may send them, so nobody else can have a case's
    parties texted again by knowing its id.
    """
    stored = await runtime.cases.get(case_id)
    if stored is None:
        raise case_not_found(case_id)
    if stored.on_scene is not None:
        raise sent_on_scene(stored.on_scene)
    if stored.status not in {"draft", "resubmission_requested"}:
        raise already_submitted()
    now = datetime.now(UTC)
    for party in stored.details.parties:
        token = runtime.party_tokens.issue_link(case_id, party.party_id, now)
        await _send_sms(
            runtime,
            party,
            case_id,
            stored.trace_id,
            template="case_link",
            variables={"link": f"{runtime.settings.public_url()}/phone/#t={token}"},
            message_id=f"{case_id}:case_link:{party.party_id}:{uuid.uuid4().hex[:8]}",
        )
    log.info(
        "party links sent",
        case_id=str(case_id),
        trace_id=stored.trace_id,
        caller=officer.name,
    )
    return LinksSent(
        case_id=case_id, party_ids=[p.party_id for p in stored.details.parties]
    )


@router.post("/access/code", status_code=status.HTTP_202_ACCEPTED, responses=ERRORS)
async def send_code(body: CodeRequest, request: Request, runtime: Runtime) -> CodeSent:
    """Text a one-time code to the party that the link names."""
    now = datetime.now(UTC)
    guard = runtime.code_requests
    link, party, trace_id, attempt = await _linked_party(
        runtime, body.link_token, now, guard, client_address(request)
    )
    try:
        code = await runtime.party_codes.issue(link, now)
    except PartyAccessError as error:
        if error.code == "code_recently_sent":
            # No text went out, so the request does not count.
            await guard.forget(attempt)
        raise _refusal(error) from error
    lifetime = runtime.party_codes.policy.code_lifetime
    minutes = math.ceil(lifetime.total_seconds() / 60)
    await _send_sms(
        runtime,
        party,
        link.case_id,
        trace_id,
        template="party_access_code",
        variables={"code": code, "minutes": str(minutes)},
        message_id=f"{link.case_id}:party_access_code:{party.party_id}:"
        f"{uuid.uuid4().hex[:8]}",
    )
    log.info("access code sent", case_id=str(link.case_id), party_id=party.party_id)
    return CodeSent(
        case_id=link.case_id,
        party_id=party.party_id,
        phone_masked=mask_phone(party.phone),
        expires_in_seconds=int(lifetime.total_seconds()),
    )


@router.post("/access/sign-out", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(runtime: Runtime, credentials: Credentials) -> Response:
    """Sign a party's session out, so it is rejected from now on."""
    if credentials is None or credentials.credentials.count(".") != 1:
        raise problem_response(
            401,
            "sign_in_required",
            "send the party's session token as a Bearer token; staff sign out at "
            "the liability service's POST /auth/sign-out",
            "请先打开短信链接并输入验证码。",
        )
    token = credentials.credentials
    grant = await read_session(runtime, token)
    await runtime.revocations.revoke(
        token, "party", f"{grant.case_id}:{grant.party_id}", grant.expires_at
    )
    log.info("party signed out", case_id=str(grant.case_id), party_id=grant.party_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/access/session", responses=ERRORS)
async def open_session(
    body: SessionRequest, request: Request, runtime: Runtime
) -> PartySession:
    """Exchange the link and its code for a session token of that party."""
    now = datetime.now(UTC)
    guard = runtime.code_entries
    link, party, _, attempt = await _linked_party(
        runtime, body.link_token, now, guard, client_address(request)
    )
    try:
        await runtime.party_codes.confirm(link, body.code, now)
    except PartyAccessError as error:
        log.info(
            "access code rejected",
            case_id=str(link.case_id),
            party_id=party.party_id,
            reason=error.code,
        )
        raise _refusal(error) from error
    # Only failed entries count against the limits.
    await guard.forget(attempt)
    token, expires_at = runtime.party_tokens.issue_session(link, now)
    log.info("party session opened", case_id=str(link.case_id), party_id=party.party_id)
    return PartySession(
        session_token=token,
        case_id=link.case_id,
        party_id=party.party_id,
        expires_at=expires_at,
    )


async def _linked_party(
    runtime: Runtime, token: str, now: datetime, guard: AttemptGuard, client: str
) -> tuple[PartyGrant, Party, str, Attempt]:
    """Return the link's grant, party and trace id, with the attempt recorded.

    An invalid link counts against the client's limit only, because it names no
    party.
    """
    try:
        link = runtime.party_tokens.read(token, "link", now)
    except PartyAccessError as error:
        await _begin_attempt(guard, None, client)
        raise _refusal(error) from error
    attempt = await _begin_attempt(guard, f"{link.case_id}:{link.party_id}", client)
    stored = await runtime.cases.get(link.case_id)
    party = None
    if stored is not None:
        party = next(
            (p for p in stored.details.parties if p.party_id == link.party_id), None
        )
    if stored is None or party is None:
        raise case_not_found(link.case_id)
    return link, party, stored.trace_id, attempt


_RATE_LIMITED = {
    "party_code_request": (
        "too_many_code_requests",
        "too many codes were requested",
        "获取验证码次数过多，请 {minutes} 分钟后再试。",
    ),
    "party_code_entry": (
        "too_many_code_failures",
        "too many wrong codes were entered",
        "验证码输入错误次数过多，请 {minutes} 分钟后再试。",
    ),
}


async def _begin_attempt(
    guard: AttemptGuard, party: str | None, client: str
) -> Attempt:
    """Record an attempt, or raise 429 with Retry-After when a limit is reached."""
    try:
        return await guard.begin(party, client)
    except TooManyAttemptsError as error:
        code, reason, message_zh = _RATE_LIMITED[guard.scope]
        where = "for this party" if error.kind == "account" else "from this address"
        log.warning(
            "party access rate limited",
            scope=guard.scope,
            party=party,
            client=client,
            limit=error.kind,
            retry_after=error.retry_after,
        )
        raise HTTPException(
            429,
            detail=problem(
                code,
                f"{reason} {where}; try again in {error.retry_after} s",
                message_zh.format(minutes=error.minutes),
            ),
            headers={"Retry-After": str(error.retry_after)},
        ) from error


async def _send_sms(
    runtime: Runtime,
    party: Party,
    case_id: UUID,
    trace_id: str,
    *,
    template: str,
    variables: dict[str, str],
    message_id: str,
) -> None:
    event = SmsRequested(
        case_id=case_id,
        trace_id=trace_id,
        message_id=message_id,
        party_id=party.party_id,
        phone=party.phone,
        template=template,
        variables={
            "case_number": str(case_id)[:8],
            "plate": party.plate,
            **variables,
        },
    )
    # Through the outbox: the request returns once the message is durably queued.
    await runtime.cases.queue_event(event)
