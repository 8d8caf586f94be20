"""Paperless settlement on the party's phone: see the ruling and the assessed
claim, consent, and name the payee account for the insurer.

The party signs in from the settlement SMS link with a one-time code
(``access_api``). The ruling and the claims come from the case workflow. Intake
keeps the confirmation and writes its ``settlement.confirmed`` event in the same
transaction, so the insurer gets it even if Kafka is down at that moment.
"""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import structlog
from fastapi import APIRouter
from pydantic import BaseModel
from temporalio.service import RPCError, RPCStatusCode

from common.sealing import Purpose, seal
from contracts.events import SealedSettlementConfirmed
from contracts.insurers import KNOWN_INSURERS
from contracts.settlement import (
    ClaimState,
    ClaimStatus,
    MaskedPayee,
    PartyShare,
    SealedPayee,
    SettlementState,
)
from contracts.workflow import SETTLEMENT_QUERY, case_workflow_id
from services.intake.callers import Caller, CaseCaller, Runtime
from services.intake.problems import ERRORS, case_not_found
from services.intake.runtime import IntakeRuntime
from services.intake.settlement_problems import (
    PayeeForm,
    already_confirmed,
    case_closed,
    claim_closed,
    claim_not_assessed,
    claim_not_found,
    not_yours,
    party_only,
    payee_invalid,
    payee_problems,
    settlement_not_found,
)
from services.intake.settlement_store import StoredConfirmation

router = APIRouter(
    prefix="/cases/{case_id}/parties/{party_id}/settlement", tags=["settlement"]
)
log = structlog.get_logger(__name__)
RPC_TIMEOUT = timedelta(seconds=10)


class ConfirmationView(BaseModel):
    """A confirmation as the phone shows it back: the account number masked."""

    amount_cents: int
    payee: MaskedPayee
    confirmed_at: datetime


class SettlementClaim(BaseModel):
    insurer_code: str
    insurer_name: str
    claim_number: str
    status: ClaimStatus
    assessed_cents: int | None
    settled_cents: int | None
    refusal_reason: str
    confirmation: ConfirmationView | None


class SettlementView(BaseModel):
    """The ruling and the party's own claims, for the settlement page."""

    case_id: UUID
    party_id: str
    case_closed: bool
    ruled: bool
    document_number: str
    shares: list[PartyShare]
    claims: list[SettlementClaim]


def _check_party(caller: Caller, party_id: str) -> None:
    if caller.party is None:
        raise party_only()
    if caller.party.party_id != party_id:
        raise not_yours(party_id)


async def _state(runtime: IntakeRuntime, case_id: UUID) -> SettlementState:
    handle = runtime.temporal.get_workflow_handle(case_workflow_id(case_id))
    try:
        state: SettlementState = await handle.query(
            SETTLEMENT_QUERY, result_type=SettlementState, rpc_timeout=RPC_TIMEOUT
        )
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise settlement_not_found(case_id) from error
        raise
    return state


def _view(
    case_id: UUID,
    party_id: str,
    state: SettlementState,
    confirmations: list[StoredConfirmation],
) -> SettlementView:
    confirmed = {item.insurer_code: item for item in confirmations}
    claims = []
    for claim in state.claims:
        if claim.party_id != party_id:
            continue
        stored = confirmed.get(claim.insurer_code)
        claims.append(
            SettlementClaim(
                insurer_code=claim.insurer_code,
                insurer_name=KNOWN_INSURERS.get(claim.insurer_code, claim.insurer_code),
                claim_number=claim.claim_number,
                status=claim.status,
                assessed_cents=claim.assessed_cents,
                settled_cents=claim.settled_cents,
                refusal_reason=claim.refusal_reason,
                confirmation=None
                if stored is None
                else ConfirmationView(
                    amount_cents=stored.amount_cents,
                    payee=stored.payee,
                    confirmed_at=stored.confirmed_at,
                ),
            )
        )
    return SettlementView(
        case_id=case_id,
        party_id=party_id,
        case_closed=state.closed,
        ruled=state.ruled,
        document_number=state.document_number,
        shares=state.shares,
        claims=claims,
    )


def _party_claim(
    state: SettlementState, party_id: str, claim_number: str
) -> ClaimState:
    """Return the party's claim with that number, or raise why it cannot be
    confirmed: unknown, or known but not yet assessed for anyone.
    """
    for claim in state.claims:
        if claim.claim_number != claim_number:
            continue
        if claim.party_id == party_id:
            return claim
        if claim.status is ClaimStatus.OPENED:
            raise claim_not_assessed(claim_number)
    raise claim_not_found(claim_number)


@router.get("", responses=ERRORS)
async def settlement(
    case_id: UUID, party_id: str, caller: CaseCaller, runtime: Runtime
) -> SettlementView:
    """Return the ruling, the party's claims and the confirmations given so far."""
    _check_party(caller, party_id)
    state = await _state(runtime, case_id)
    confirmations = await runtime.settlements.confirmations(case_id)
    return _view(case_id, party_id, state, confirmations)


@router.post("", responses=ERRORS)
async def confirm_settlement(
    case_id: UUID,
    party_id: str,
    form: PayeeForm,
    caller: CaseCaller,
    runtime: Runtime,
) -> SettlementView:
    """Confirm an assessed claim and name the account the insurer pays into."""
    _check_party(caller, party_id)
    stored_case = await runtime.cases.get(case_id)
    if stored_case is None:
        raise case_not_found(case_id)
    state = await _state(runtime, case_id)
    claim = _party_claim(state, party_id, form.claim_number)
    confirmations = await runtime.settlements.confirmations(case_id)
    if any(item.insurer_code == claim.insurer_code for item in confirmations):
        raise already_confirmed(claim.claim_number)
    if state.closed:
        raise case_closed(case_id)
    if claim.status in (ClaimStatus.SETTLED, ClaimStatus.REFUSED):
        raise claim_closed(claim.claim_number, claim.status.value)
    if claim.assessed_cents is None:
        raise claim_not_assessed(claim.claim_number)
    payee, problems = payee_problems(form)
    if payee is None:
        log.info(
            "settlement form rejected",
            case_id=str(case_id),
            party_id=party_id,
            problems=[item.code for item in problems],
        )
        raise payee_invalid(problems)

    masked = payee.masked()
    event = SealedSettlementConfirmed(
        case_id=case_id,
        trace_id=stored_case.trace_id,
        insurer_code=claim.insurer_code,
        claim_number=claim.claim_number,
        party_id=party_id,
        amount_cents=claim.assessed_cents,
        payee=SealedPayee(
            account_holder=masked.account_holder,
            bank=masked.bank,
            account_number_masked=masked.account_number_masked,
            account_number_sealed=seal(payee.account_number, Purpose.PAYEE_ACCOUNT),
        ),
        confirmed_at=datetime.now(UTC),
    )
    # The insert decides a race between two confirmations of the same claim.
    if not await runtime.settlements.confirm(event):
        raise already_confirmed(claim.claim_number)
    log.info(
        "settlement confirmed",
        case_id=str(case_id),
        trace_id=stored_case.trace_id,
        party_id=party_id,
        insurer=claim.insurer_code,
        account_number=masked.account_number_masked,
    )
    confirmations = await runtime.settlements.confirmations(case_id)
    return _view(case_id, party_id, state, confirmations)
