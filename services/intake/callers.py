"""Intake's callers: a party with a session from the SMS link, or staff with a token.

Party sessions come from ``identity.party_access``. Staff tokens are checked by the
runtime's ``StaffVerifier`` (the identity package's authenticator), and only
auxiliary officers may act on cases here.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from identity.errors import AuthenticationError, ProviderUnavailableError
from identity.party_access import PartyAccessError, PartyGrant
from identity.roles import Role
from services.intake.problems import problem_response
from services.intake.runtime import IntakeRuntime
from services.intake.upload_problems import consent_required

AUXILIARY_OFFICER = Role.AUXILIARY_OFFICER
log = structlog.get_logger(__name__)
_bearer = HTTPBearer(auto_error=False)


@dataclass(frozen=True)
class Caller:
    """A verified caller: a party of one case, or an auxiliary officer."""

    party: PartyGrant | None = None
    badge_number: str | None = None

    @property
    def name(self) -> str:
        if self.party is not None:
            return f"party {self.party.party_id}"
        return f"auxiliary officer {self.badge_number}"

    def may_act_on(self, case_id: UUID) -> bool:
        return self.party is None or self.party.case_id == case_id


def _runtime(request: Request) -> IntakeRuntime:
    runtime: IntakeRuntime = request.app.state.runtime
    return runtime


Runtime = Annotated[IntakeRuntime, Depends(_runtime)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def _caller(runtime: Runtime, credentials: Credentials) -> Caller:
    if credentials is None:
        raise problem_response(
            401,
            "sign_in_required",
            "send the session token from the SMS link, or a staff token, as a "
            "Bearer token",
            "请先打开短信链接并输入验证码。",
        )
    token = credentials.credentials
    if _party_token(token):
        return Caller(party=await read_session(runtime, token))
    return await _staff_caller(runtime, token)


async def read_session(runtime: IntakeRuntime, token: str) -> PartyGrant:
    """Return the grant of a party's session token, unless it is invalid, expired
    or signed out."""
    try:
        grant = runtime.party_tokens.read(token, "session", datetime.now(UTC))
    except PartyAccessError as error:
        raise problem_response(
            error.status_code, error.code, error.message, error.message_zh
        ) from error
    if await runtime.revocations.is_revoked(token):
        raise problem_response(
            401,
            "session_signed_out",
            "the session was signed out; open the SMS link and confirm a new code",
            "您已退出登录，请重新打开短信链接并输入验证码。",
        )
    return grant


async def _staff_caller(runtime: IntakeRuntime, token: str) -> Caller:
    verifier = runtime.staff_verifier
    refused = problem_response(
        401,
        "staff_token_invalid",
        "the staff token is invalid or expired; sign in again",
        "工作人员登录已失效，请重新登录。",
    )
    if verifier is None:
        raise refused
    try:
        staff = await verifier.verify(token)
    except AuthenticationError as error:
        raise refused from error
    except ProviderUnavailableError as error:
        log.warning("identity provider unavailable", error=str(error))
        raise problem_response(
            503,
            "service_unavailable",
            "the sign-in provider did not answer; try again shortly",
            "系统繁忙，请稍后重试。",
        ) from error
    if AUXILIARY_OFFICER not in staff.roles:
        raise problem_response(
            403,
            "role_not_allowed",
            f"{staff.subject} is not an auxiliary officer; intake takes the staff "
            "tokens of auxiliary officers only",
            "只有辅警可以代为处理现场案件。",
        )
    return Caller(badge_number=staff.badge_number)


AnyCaller = Annotated[Caller, Depends(_caller)]


async def _case_caller(case_id: UUID, caller: AnyCaller) -> Caller:
    if not caller.may_act_on(case_id):
        raise problem_response(
            403,
            "case_not_yours",
            "the session belongs to another case; open the SMS link of this case",
            "该链接不属于这个案件，请打开本案件的短信链接。",
        )
    return caller


CaseCaller = Annotated[Caller, Depends(_case_caller)]


def _party_token(token: str) -> bool:
    # Party session tokens are two dot-separated parts; staff JWTs have three.
    return token.count(".") == 1


async def _auxiliary_officer(runtime: Runtime, credentials: Credentials) -> Caller:
    if credentials is None:
        raise problem_response(
            401,
            "sign_in_required",
            "send an auxiliary officer's staff token as a Bearer token",
            "请辅警登录后再操作。",
        )
    if _party_token(credentials.credentials):
        raise problem_response(
            403,
            "auxiliary_officer_required",
            "only an auxiliary officer may open a case or send its SMS links; "
            "a party's session cannot",
            "只有辅警可以报案或发送短信链接。",
        )
    return await _staff_caller(runtime, credentials.credentials)


# An auxiliary officer's verified staff token; a party's session is rejected.
AuxiliaryOfficer = Annotated[Caller, Depends(_auxiliary_officer)]


async def require_consent(runtime: IntakeRuntime, caller: Caller) -> None:
    """Reject a party that has not consented to remote settlement; staff pass."""
    party = caller.party
    if party is not None and not await runtime.uploads.consented(
        party.case_id, party.party_id
    ):
        raise consent_required()
