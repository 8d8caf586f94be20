"""Paperless settlement: a party confirms an assessed claim and names the payee.

The full account number goes only to the claim's insurer. The workflow, the logs
and every API that lists a confirmation back carry ``MaskedPayee`` instead.
"""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from contracts.case import InsurerCode, PartyId
from contracts.ruling import LiabilityCategory
from contracts.text import OneLine

# Chinese bank cards carry 16 to 19 digits; some older accounts carry 12.
ACCOUNT_NUMBER_PATTERN = r"^[0-9]{12,19}$"


def mask_account_number(number: str) -> str:
    """Keep only the last four digits, as bank statements print an account."""
    return "****" + number[-4:]


class MaskedPayee(BaseModel):
    """A payee account as anyone but the claim's insurer sees it."""

    account_holder: str
    bank: str
    account_number_masked: str = Field(description="Last four digits, e.g. ****0123")


class SealedPayee(BaseModel):
    """A payee account on the internal topic: the number sealed for insurance."""

    account_holder: OneLine = Field(max_length=50)
    bank: OneLine = Field(max_length=50)
    account_number_masked: str = Field(description="Last four digits, e.g. ****0123")
    account_number_sealed: str = Field(
        min_length=1,
        description="The full account number, sealed with AES-GCM under the "
        "platform's key ring for the purpose 'payee account' (common/sealing.py)",
    )


class PayeeAccount(BaseModel):
    """The account an insurer pays a claim into, as the party entered it."""

    account_holder: OneLine = Field(max_length=50)
    bank: OneLine = Field(max_length=50)
    account_number: str = Field(pattern=ACCOUNT_NUMBER_PATTERN)

    def masked(self) -> MaskedPayee:
        return MaskedPayee(
            account_holder=self.account_holder,
            bank=self.bank,
            account_number_masked=mask_account_number(self.account_number),
        )


class ClaimStatus(StrEnum):
    """How far an insurer's claim has gone, as the case workflow saw it."""

    OPENED = "opened"
    ASSESSED = "assessed"
    SETTLED = "settled"
    REFUSED = "refused"


class ClaimState(BaseModel):
    """One insurer's claim of a case, and the party's confirmation if given."""

    insurer_code: InsurerCode
    claim_number: str
    status: ClaimStatus
    party_id: PartyId | None = Field(
        default=None,
        description="The party the claim concerns, who confirms it; None until "
        "the claim is assessed or when the insurer named no party",
    )
    assessed_cents: int | None = None
    settled_cents: int | None = None
    refusal_reason: str = ""
    confirmed_payee: MaskedPayee | None = None


class PartyShare(BaseModel):
    party_id: PartyId
    name: str
    plate: str
    category: LiabilityCategory
    share: int


class SettlementState(BaseModel):
    """The ruling and the claims of a case, for the settlement page."""

    closed: bool = Field(description="True once the case workflow closed the case")
    ruled: bool
    document_number: str = ""
    shares: list[PartyShare] = Field(default_factory=list)
    claims: list[ClaimState] = Field(default_factory=list)


class SettlementConfirmedSignal(BaseModel):
    """A party's confirmation of a claim, relayed once its insurer has it queued."""

    insurer_code: InsurerCode
    claim_number: str
    party_id: PartyId
    amount_cents: int
    payee: MaskedPayee
    confirmed_at: datetime
