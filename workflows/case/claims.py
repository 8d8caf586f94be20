"""Claim helpers of the case workflow: the party a claim concerns, the claim's
status and the ruling's shares for the settlement page, and the refusal text.

They are pure functions, so the workflow may call them on replay.
"""

from contracts.case import Party
from contracts.insurers import KNOWN_INSURERS
from contracts.ruling import Ruling
from contracts.settlement import ClaimStatus, PartyShare
from contracts.workflow import ClaimAssessedSignal


def claim_party(
    parties: list[Party], code: str, assessed: ClaimAssessedSignal
) -> Party | None:
    """Return the party an assessed claim concerns: the one its insurer named,
    else the insurer's only insured party of the case.
    """
    named = assessed.party_id
    if named is not None:
        return next((party for party in parties if party.party_id == named), None)
    insured = [party for party in parties if party.insurer_code == code]
    return insured[0] if len(insured) == 1 else None


def claim_status(
    code: str, assessed: set[str], settled: set[str], refused: set[str]
) -> ClaimStatus:
    if code in settled:
        return ClaimStatus.SETTLED
    if code in refused:
        return ClaimStatus.REFUSED
    if code in assessed:
        return ClaimStatus.ASSESSED
    return ClaimStatus.OPENED


def party_shares(parties: list[Party], ruling: Ruling | None) -> list[PartyShare]:
    if ruling is None:
        return []
    return [
        PartyShare(
            party_id=party.party_id,
            name=party.name,
            plate=party.plate,
            category=liability.category,
            share=liability.share,
        )
        for party in parties
        for liability in ruling.liabilities
        if liability.party_id == party.party_id
    ]


def refusals_text(refused: dict[str, str]) -> str:
    """Return each refused claim's insurer and reason, as the SMS prints them."""
    lines = [
        f"{KNOWN_INSURERS.get(code, code)}拒绝理赔，原因：{reason.rstrip('。.')}"
        for code, reason in sorted(refused.items())
    ]
    return "；".join(lines) + "。"
