"""Checks that a claim event belongs to a claim that insurance may relay.

A claim event may reach the case workflow only when insurance sent that insurer the
ruling of that case, and, for every event after ``claim.opened``, when the insurer
opened a claim with the same number that is not closed yet. The checks read what
insurance recorded itself: the notifications it queued and the claims it relayed.
"""

from dataclasses import dataclass

from common.kafka_retry import PermanentMessageError
from contracts.events import ClaimAssessed, ClaimOpened, ClaimRefused, ClaimSettled

ClaimEvent = ClaimOpened | ClaimAssessed | ClaimSettled | ClaimRefused
# A settlement may not follow a refusal of the same claim, nor a refusal a
# settlement. An assessment may come after either, because it travels on its own
# topic and can be read after the claim's settlement.
CONTRADICTED_BY: dict[str, str] = {
    "claim.settled": "refused",
    "claim.refused": "settled",
}


class ClaimEventRejectedError(PermanentMessageError):
    """A claim event that can never be relayed, with a stable code for the reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ClaimNotOpenedError(Exception):
    """An event of a claim whose ``claim.opened`` insurance has not relayed yet.

    The opening travels on a topic of its own, so it may arrive a moment later.
    The message is retried, and goes to the dead-letter topic if it never comes.
    """


@dataclass(frozen=True)
class ClaimStanding:
    """Insurance's records of one insurer's claim on one case."""

    handled: bool
    """The inbox contains the event's id, so this is a redelivery of a relayed event."""
    delivered: bool
    """Insurance queued the ruling of the case for this insurer."""
    claim_number: str | None = None
    status: str | None = None


def check_claim_event(event: ClaimEvent, standing: ClaimStanding) -> None:
    """Raise unless the event may go to the case workflow.

    Raises ClaimEventRejectedError for an event that can never be accepted and
    ClaimNotOpenedError for one that may be accepted once its claim is opened.
    """
    if standing.handled:
        return
    name = f"{event.topic} of {event.insurer_code} for case {event.case_id}"
    if not standing.delivered:
        raise ClaimEventRejectedError(
            "ruling_not_delivered",
            f"{name}: insurance never sent this insurer the ruling of the case",
        )
    if standing.claim_number is None:
        if isinstance(event, ClaimOpened):
            return
        raise ClaimNotOpenedError(
            f"{name}: the insurer has opened no claim on the case yet"
        )
    if standing.claim_number != event.claim_number:
        raise ClaimEventRejectedError(
            "claim_number_mismatch",
            f"{name}: names claim {event.claim_number}, but the insurer opened "
            f"claim {standing.claim_number}",
        )
    if standing.status is not None and standing.status == CONTRADICTED_BY.get(
        event.topic
    ):
        raise ClaimEventRejectedError(
            "claim_closing_conflict",
            f"{name}: claim {standing.claim_number} is already {standing.status}",
        )
