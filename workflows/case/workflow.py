"""The remote-liability case workflow."""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from common.working_days import CHINA_TIME, RECONSIDERATION_WORKING_DAYS
    from contracts.case import (
        CaseDetails,
        EvidenceFinding,
        FindingSeverity,
        Party,
        StoredEvidence,
    )
    from contracts.documents import RulingDocumentContent
    from contracts.events import (
        CaseClosed,
        CaseEscalated,
        CaseQueued,
        CaseRuled,
        EvidenceRejected,
        InsurerReminder,
        PartySummary,
        SettlementEscalated,
        SmsRequested,
    )
    from contracts.review import ReviewInput, review_workflow_id
    from contracts.ruling import Ruling, RulingDraft, RulingProblem
    from contracts.settlement import (
        ClaimState,
        SettlementConfirmedSignal,
        SettlementState,
    )
    from contracts.workflow import (
        CASE_CLAIMED_SIGNAL,
        CLAIM_ASSESSED_SIGNAL,
        CLAIM_OPENED_SIGNAL,
        CLAIM_REFUSED_SIGNAL,
        CLAIM_RELEASED_SIGNAL,
        CLAIM_SETTLED_SIGNAL,
        DEFAULT_RULING_TARGET_MINUTES,
        EVIDENCE_RESUBMITTED_SIGNAL,
        INSURER_NOTIFIED_SIGNAL,
        REQUEST_EVIDENCE_UPDATE,
        RULING_REJECTED,
        SETTLEMENT_CONFIRMED_SIGNAL,
        SETTLEMENT_QUERY,
        SUBMIT_RULING_UPDATE,
        TIMELINE_QUERY,
        WORKFLOW_NAME,
        CaseClaimed,
        CaseOutcome,
        CaseStage,
        CaseTimeline,
        CaseWorkflowInput,
        ClaimAssessedSignal,
        ClaimOpenedSignal,
        ClaimRefusedSignal,
        ClaimReleased,
        ClaimSettledSignal,
        EvidenceRequest,
        EvidenceRequested,
        EvidenceResubmittedSignal,
        InsurerNotified,
        RulingAccepted,
        SubmitRulingInput,
        TimelineEntry,
        evidence_task_queue,
    )
    from documents.numbers import ruling_document_number
    from workflows.case.activities import CaseActivities
    from workflows.case.claims import (
        claim_party,
        claim_status,
        party_shares,
        refusals_text,
    )
    from workflows.case.models import (
        EvidenceCheckInput,
        ExamineEvidenceInput,
        ExamineEvidenceResult,
        HashEvidenceInput,
        ReminderBatch,
        SettlementLinkInput,
        SmsBatch,
    )
    from workflows.case.settlement import SettlementActivities
    from workflows.evidence.activities import EvidenceActivities
    from workflows.review.activities import DocumentActivities
    from workflows.review.models import DocumentIssued
    from workflows.review.workflow import RulingReviewWorkflow

SETTLEMENT_DEADLINE = timedelta(days=30)
# A publish takes milliseconds; a short limit lets another worker retry soon after
# the one running the activity dies.
PUBLISH_TIMEOUT = timedelta(seconds=10)
CHECK_HEARTBEAT_TIMEOUT = timedelta(seconds=20)
# Publishing retries until Kafka is back: a case waits rather than fails.
PUBLISH_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))
# Rendering and storing a document takes well under a second.
DOCUMENT_TIMEOUT = timedelta(minutes=1)
# Cases ruled before documents existed replay without issuing one.
RULING_DOCUMENT_PATCH = "ruling-document"
# Cases ruled before the review workflow existed start none.
RULING_REVIEW_PATCH = "ruling-review"
# Storage being down is waited out; a bad file comes back as a result.
CHECK_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))
CHECK_TIMEOUT = timedelta(minutes=10)
# Cases started before the evidence checks grew hashing, examination and
# resubmission keep the single check and close on a rejection.
EVIDENCE_CHECKS_PATCH = "evidence-checks-with-resubmission"
# Cases started before the evidence checks had a task queue of their own run them
# on the case's queue.
EVIDENCE_TASK_QUEUE_PATCH = "evidence-task-queue"
# Uploads a case may try, the first included, before it goes to on-scene handling.
MAX_EVIDENCE_ATTEMPTS = 3
# Cases started before the ruling target existed replay without its timer.
RULING_TARGET_PATCH = "ruling-target-timer"
# Cases notified before claim deadlines existed replay with the 30-day wait only.
CLAIM_DEADLINES_PATCH = "claim-deadlines"
# Counted from the moment every insurer is notified.
CLAIM_REMINDER_AFTER = timedelta(days=2)
CLAIM_ESCALATION_AFTER = timedelta(days=5)
# Cases that reached their claims before settlement links existed text none.
SETTLEMENT_LINKS_PATCH = "settlement-links"
# Cases that reached their claims before refusals were texted close without one.
CLAIM_REFUSAL_SMS_PATCH = "claim-refusal-sms"


@workflow.defn(name=WORKFLOW_NAME)
class RemoteLiabilityCaseWorkflow:
    """One accident case, from its checked video to its settled claims."""

    @workflow.init
    def __init__(self, request: CaseWorkflowInput) -> None:
        self._request = request
        self._stage = CaseStage.CHECKING_EVIDENCE
        self._timeline: list[TimelineEntry] = []
        self._ruling: Ruling | None = None
        self._notified: set[str] = set()
        self._claims_opened: dict[str, str] = {}
        self._claims_settled: dict[str, int] = {}
        self._claims_assessed: dict[str, ClaimAssessedSignal] = {}
        self._claims_refused: dict[str, str] = {}
        self._claims_confirmed: dict[str, SettlementConfirmedSignal] = {}
        self._claim_numbers: dict[str, str] = {}
        # Insurers whose assessed claim got its settlement link, or was skipped.
        self._settlement_links: set[str] = set()
        self._claims_closed = False
        self._document_number = ""
        self._replacement: StoredEvidence | None = None
        self._attempt = 1
        self._claimed_by: str | None = None
        self._evidence_request: EvidenceRequest | None = None
        # Set once the case waits for its ruling under the code that can leave the
        # queue for more evidence; older cases reject such requests.
        self._takes_evidence_requests = False

    @workflow.run
    async def run(self, request: CaseWorkflowInput) -> CaseOutcome:
        case = request.case
        self._record(
            "case submitted", f"{len(case.parties)} parties", at=request.submitted_at
        )
        self._record("case workflow started")

        # Evidence: read the stored video back before anyone relies on it.
        if workflow.patched(EVIDENCE_CHECKS_PATCH):
            checked = await self._check_until_accepted(request.video)
            if checked is None:
                return await self._send_on_scene()
            video, examined = checked
        else:
            check = await workflow.execute_activity_method(
                EvidenceActivities.check_evidence,
                EvidenceCheckInput(case_id=case.case_id, video=request.video),
                start_to_close_timeout=CHECK_TIMEOUT,
                heartbeat_timeout=CHECK_HEARTBEAT_TIMEOUT,
                retry_policy=CHECK_RETRY,
            )
            if not check.accepted:
                self._record("evidence rejected", check.reason)
                await self._send_sms("evidence_rejected", {})
                return await self._close("evidence_rejected")
            self._record("evidence checked", f"sha256 {request.video.sha256[:12]}")
            await self._send_sms("evidence_received", {})
            video, examined = request.video, ExamineEvidenceResult()

        # Officer queue: wait for a ruling that the update validator let through,
        # or for the officer's request for more evidence, which takes the case out
        # of the queue until a new video passes its checks.
        while True:
            # The case takes rulings before the publish is recorded as done, because
            # officers may see it as soon as Kafka has the event, and a worker that
            # dies after publishing leaves the activity to be retried.
            self._stage = CaseStage.AWAITING_RULING
            await workflow.execute_activity_method(
                CaseActivities.queue_for_officer,
                CaseQueued(
                    **self._event_fields(),
                    accident_at=case.accident_at,
                    location=case.location,
                    description=case.description,
                    parties=[_summary(party) for party in case.parties],
                    video=video,
                    findings=examined.findings,
                    thumbnails=examined.thumbnails,
                    thumbnail_seconds=examined.thumbnail_seconds,
                ),
                start_to_close_timeout=PUBLISH_TIMEOUT,
                retry_policy=PUBLISH_RETRY,
            )
            self._record("queued for officer")
            queued_at = workflow.now()
            if workflow.patched(RULING_TARGET_PATCH):
                await self._wait_for_ruling_or_escalate(request, queued_at)
            else:
                await workflow.wait_condition(lambda: self._ruling is not None)
            if self._ruling is not None:
                break
            checked = await self._gather_more_evidence(video)
            if checked is None:
                return await self._send_on_scene()
            video, examined = checked

        ruling = self._ruling
        assert ruling is not None

        await self._announce_ruling(case, ruling)
        insurers = set(case.insurer_codes())
        await workflow.wait_condition(lambda: insurers <= self._notified)

        # Claims: one per insurer involved, each opened then settled by the insurer.
        self._stage = CaseStage.AWAITING_SETTLEMENT
        if workflow.patched(CLAIM_DEADLINES_PATCH):
            return await self._settle_claims(insurers)
        try:
            await workflow.wait_condition(
                lambda: insurers <= set(self._claims_settled),
                timeout=SETTLEMENT_DEADLINE,
            )
        except TimeoutError:
            missing = ", ".join(sorted(insurers - set(self._claims_settled)))
            self._record("settlement overdue", missing)
            return await self._close("settlement_overdue")
        await self._send_sms("claim_settled", {})
        return await self._close("settled")

    async def _settle_claims(self, insurers: set[str]) -> CaseOutcome:
        """Wait until every claim is settled or refused, then close the case.

        Meanwhile, the party of each assessed claim gets a settlement link.
        """
        links: asyncio.Task[None] | None = None
        if workflow.patched(SETTLEMENT_LINKS_PATCH):
            links = asyncio.create_task(self._text_settlement_links())
        outcome = await self._await_claims(insurers)
        self._claims_closed = True
        if links is not None:
            await links
        if outcome == "claim_refused":
            if workflow.patched(CLAIM_REFUSAL_SMS_PATCH):
                reason = refusals_text(self._claims_refused)
                await self._send_sms("claim_refused", {"reason": reason})
        elif outcome == "settled":
            await self._send_sms("claim_settled", {})
        return await self._close(outcome)

    async def _await_claims(self, insurers: set[str]) -> str:
        """Wait until every claim is settled or refused, with deadlines.

        An insurer whose claim is still open after two days is reminded. After five
        days the case is escalated to operators, and after 30 it closes overdue.
        Returns the outcome to close the case with.
        """
        notified_at = workflow.now()

        def open_claims() -> list[str]:
            closed = set(self._claims_settled) | set(self._claims_refused)
            return sorted(insurers - closed)

        # Reminder: every insurer whose claim is still open.
        if not await self._within(lambda: not open_claims(), CLAIM_REMINDER_AFTER):
            silent = open_claims()
            await workflow.execute_activity_method(
                CaseActivities.remind_insurers,
                ReminderBatch(
                    reminders=[
                        InsurerReminder(
                            **self._event_fields(),
                            insurer_code=code,
                            notified_at=notified_at,
                            escalates_at=notified_at + CLAIM_ESCALATION_AFTER,
                        )
                        for code in silent
                    ]
                ),
                start_to_close_timeout=PUBLISH_TIMEOUT,
                retry_policy=PUBLISH_RETRY,
            )
            self._record("insurers reminded", ", ".join(silent))

            # Escalation: operators follow up with the insurers still silent.
            remaining = CLAIM_ESCALATION_AFTER - CLAIM_REMINDER_AFTER
            if not await self._within(lambda: not open_claims(), remaining):
                silent = open_claims()
                await workflow.execute_activity_method(
                    CaseActivities.publish_settlement_escalation,
                    SettlementEscalated(
                        **self._event_fields(),
                        insurer_codes=silent,
                        notified_at=notified_at,
                    ),
                    start_to_close_timeout=PUBLISH_TIMEOUT,
                    retry_policy=PUBLISH_RETRY,
                )
                self._record("settlement escalated", ", ".join(silent))
                remaining = SETTLEMENT_DEADLINE - CLAIM_ESCALATION_AFTER
                if not await self._within(lambda: not open_claims(), remaining):
                    self._record("settlement overdue", ", ".join(open_claims()))
                    return "settlement_overdue"

        if self._claims_refused:
            return "claim_refused"
        return "settled"

    async def _text_settlement_links(self) -> None:
        """Text the party of each assessed claim a link to confirm it, until the
        claims close.
        """
        while True:
            await workflow.wait_condition(
                lambda: self._claims_closed or bool(self._claims_to_link())
            )
            if self._claims_closed:
                return
            for code in self._claims_to_link():
                self._settlement_links.add(code)
                await self._text_settlement_link(code)

    def _claims_to_link(self) -> list[str]:
        closed = self._claims_settled.keys() | self._claims_refused.keys()
        return sorted(
            code
            for code in self._claims_assessed
            if code not in self._settlement_links and code not in closed
        )

    async def _text_settlement_link(self, code: str) -> None:
        assessed = self._claims_assessed[code]
        claim = f"{code} {assessed.claim_number}"
        party = self._claim_party(code)
        if assessed.amount_cents == 0:
            self._record("settlement link skipped", f"{claim}: nothing to pay")
            return
        if party is None:
            self._record(
                "settlement link skipped", f"{claim}: no party of the case named"
            )
            return
        await workflow.execute_activity_method(
            SettlementActivities.text_settlement_link,
            SettlementLinkInput(
                event_id=workflow.uuid4(),
                case_id=self._request.case.case_id,
                trace_id=self._request.trace_id,
                party=party,
                insurer_code=code,
                claim_number=assessed.claim_number,
                amount_cents=assessed.amount_cents,
            ),
            start_to_close_timeout=PUBLISH_TIMEOUT,
            retry_policy=PUBLISH_RETRY,
        )
        self._record("settlement link sent", f"{claim} to party {party.party_id}")

    def _claim_party(self, code: str) -> Party | None:
        parties = self._request.case.parties
        return claim_party(parties, code, self._claims_assessed[code])

    @staticmethod
    async def _within(condition: Callable[[], bool], limit: timedelta) -> bool:
        """Wait for the condition; return False when the limit passes first."""
        try:
            await workflow.wait_condition(condition, timeout=limit)
        except TimeoutError:
            return False
        return True

    async def _announce_ruling(self, case: CaseDetails, ruling: Ruling) -> None:
        """Issue the signed document, publish the ruling and text the parties."""
        # Ruling out: the signed document first, then insurers through the
        # insurance service, and parties by SMS with the document's number.
        self._stage = CaseStage.NOTIFYING_INSURERS
        document: DocumentIssued | None = None
        if workflow.patched(RULING_DOCUMENT_PATCH):
            document = await self._issue_document(ruling)
            self._document_number = document.document.document_number
        await workflow.execute_activity_method(
            CaseActivities.publish_ruling,
            CaseRuled(
                **self._event_fields(),
                accident_at=case.accident_at,
                location=case.location,
                parties=[_summary(party) for party in case.parties],
                ruling=ruling,
                document_number=document.document.document_number if document else "",
            ),
            start_to_close_timeout=PUBLISH_TIMEOUT,
            retry_policy=PUBLISH_RETRY,
        )
        self._record("ruling published")
        if document is None:
            await self._send_sms(
                "liability_ruled",
                {},
                per_party=lambda party: {"share": str(ruling.share_of(party.party_id))},
            )
        else:
            links = document.links
            await self._send_sms(
                "ruling_issued",
                _document_sms_variables(document),
                per_party=lambda party: {
                    "share": str(ruling.share_of(party.party_id)),
                    "link": links.get(party.party_id, ""),
                },
            )
            if workflow.patched(RULING_REVIEW_PATCH):
                await self._start_review(document)

    async def _wait_for_ruling_or_escalate(
        self, request: CaseWorkflowInput, queued_at: datetime
    ) -> None:
        """Wait for the ruling; past the target, alert supervisors and keep waiting."""
        minutes = request.ruling_target_minutes or DEFAULT_RULING_TARGET_MINUTES
        self._takes_evidence_requests = True
        try:
            await workflow.wait_condition(
                self._ruled_or_evidence_requested, timeout=timedelta(minutes=minutes)
            )
            return
        except TimeoutError:
            pass
        self._record("ruling overdue", f"target {minutes:g} min, escalated")
        await workflow.execute_activity_method(
            CaseActivities.publish_escalation,
            CaseEscalated(
                **self._event_fields(),
                target_minutes=minutes,
                queued_at=queued_at,
                claimed_by=self._claimed_by,
            ),
            start_to_close_timeout=PUBLISH_TIMEOUT,
            retry_policy=PUBLISH_RETRY,
        )
        await workflow.wait_condition(self._ruled_or_evidence_requested)

    def _ruled_or_evidence_requested(self) -> bool:
        return self._ruling is not None or self._evidence_request is not None

    async def _gather_more_evidence(
        self, video: StoredEvidence
    ) -> tuple[StoredEvidence, ExamineEvidenceResult] | None:
        """Ask the parties for what the officer wants filmed, then check the new video.

        The case leaves the officer queue and the claim lapses. Returns None when
        no acceptable video arrives in time.
        """
        request = self._evidence_request
        assert request is not None
        self._evidence_request = None
        self._claimed_by = None
        finding = EvidenceFinding(
            code="officer_request",
            severity=FindingSeverity.REJECT,
            message=f"the officer asks for more evidence: {request.instructions}",
            message_zh=request.instructions,
        )
        replacement = await self._await_replacement(video, [finding])
        if replacement is None:
            return None
        self._attempt += 1
        return await self._check_until_accepted(replacement)

    @workflow.update(name=REQUEST_EVIDENCE_UPDATE)
    def request_more_evidence(self, request: EvidenceRequest) -> EvidenceRequested:
        self._evidence_request = request
        self._record("more evidence requested", f"officer {request.officer_badge}")
        return EvidenceRequested(requested_at=workflow.now())

    @request_more_evidence.validator
    def _validate_evidence_request(self, request: EvidenceRequest) -> None:
        self._check_awaiting_ruling()
        if not self._takes_evidence_requests:
            raise ApplicationError(
                "this case started before officers could request more evidence",
                type="CaseNotInQueue",
            )
        problems = self._claim_problems(request.officer_badge)
        if not request.instructions.strip():
            problems.append(
                RulingProblem(
                    code="instructions_missing",
                    field="instructions",
                    message="say what the parties should film",
                    message_zh="请说明需要当事人补拍的内容。",
                )
            )
        if problems:
            raise ApplicationError(
                "; ".join(problem.message for problem in problems),
                *[problem.model_dump() for problem in problems],
                type=RULING_REJECTED,
            )

    @workflow.update(name=SUBMIT_RULING_UPDATE)
    def submit_ruling(self, request: SubmitRulingInput) -> RulingAccepted:
        # The validator let the draft through, so it makes a consistent ruling.
        ruling = Ruling.model_validate(request.ruling.model_dump())
        self._ruling = ruling
        self._record("ruling accepted", f"officer {ruling.officer_id}")
        return RulingAccepted(ruled_at=workflow.now(), ruling=ruling)

    @submit_ruling.validator
    def _validate_ruling(self, request: SubmitRulingInput) -> None:
        self._check_awaiting_ruling()
        problems = self._claim_problems(request.ruling.officer_id)
        problems += self._party_problems(request.ruling)
        problems += request.ruling.problems()
        if problems:
            raise ApplicationError(
                "; ".join(problem.message for problem in problems),
                *[problem.model_dump() for problem in problems],
                type=RULING_REJECTED,
            )

    @workflow.signal(name=EVIDENCE_RESUBMITTED_SIGNAL)
    def evidence_resubmitted(self, signal: EvidenceResubmittedSignal) -> None:
        # Only a case that waits for a replacement takes one; a redelivered
        # announcement after that changes nothing.
        if self._stage is CaseStage.AWAITING_RESUBMISSION and self._replacement is None:
            self._replacement = signal.video

    def _check_awaiting_ruling(self) -> None:
        waiting = self._stage is CaseStage.AWAITING_RULING
        if (
            not waiting
            or self._ruling is not None
            or self._evidence_request is not None
        ):
            raise ApplicationError(
                f"case {self._request.case.case_id} is not waiting for a ruling "
                f"(it is {self._stage.value})",
                type="CaseNotInQueue",
            )

    def _claim_problems(self, officer_id: str) -> list[RulingProblem]:
        if self._claimed_by is None:
            return [
                RulingProblem(
                    code="case_not_claimed",
                    field="officer_id",
                    message="the case is not claimed; claim it before ruling",
                    message_zh="请先领取该案件再作出认定。",
                )
            ]
        if officer_id != self._claimed_by:
            return [
                RulingProblem(
                    code="wrong_officer",
                    field="officer_id",
                    message=f"the case is claimed by officer {self._claimed_by}, "
                    f"not {officer_id or 'an unnamed officer'}",
                    message_zh="该案件已由其他民警领取，您不能作出认定。",
                )
            ]
        return []

    def _party_problems(self, draft: RulingDraft) -> list[RulingProblem]:
        expected = self._request.case.party_ids()
        ruled = {item.party_id for item in draft.liabilities}
        if ruled == expected:
            return []
        return [
            RulingProblem(
                code="parties_mismatch",
                field="liabilities",
                message=f"the ruling names parties {sorted(ruled)} but the case has "
                f"{sorted(expected)}; give one liability for each party",
                message_zh="认定的当事人与案件不符，请为每一方当事人认定责任。",
            )
        ]

    @workflow.signal(name=CASE_CLAIMED_SIGNAL)
    def case_claimed(self, signal: CaseClaimed) -> None:
        if signal.officer_badge != self._claimed_by:
            self._claimed_by = signal.officer_badge
            self._record("case claimed", f"officer {signal.officer_badge}")

    @workflow.signal(name=CLAIM_RELEASED_SIGNAL)
    def claim_released(self, signal: ClaimReleased) -> None:
        if signal.officer_badge == self._claimed_by:
            self._claimed_by = None
            self._record("claim released", f"officer {signal.officer_badge}")

    @workflow.signal(name=INSURER_NOTIFIED_SIGNAL)
    def insurer_notified(self, signal: InsurerNotified) -> None:
        if signal.insurer_code not in self._notified:
            self._notified.add(signal.insurer_code)
            self._record("insurer notified", signal.insurer_code)

    @workflow.signal(name=CLAIM_OPENED_SIGNAL)
    def claim_opened(self, signal: ClaimOpenedSignal) -> None:
        self._claim_numbers.setdefault(signal.insurer_code, signal.claim_number)
        if signal.insurer_code not in self._claims_opened:
            self._claims_opened[signal.insurer_code] = signal.claim_number
            self._record("claim opened", f"{signal.insurer_code} {signal.claim_number}")

    @workflow.signal(name=CLAIM_SETTLED_SIGNAL)
    def claim_settled(self, signal: ClaimSettledSignal) -> None:
        self._claim_numbers.setdefault(signal.insurer_code, signal.claim_number)
        if signal.insurer_code not in self._claims_settled:
            self._claims_settled[signal.insurer_code] = signal.amount_cents
            self._record(
                "claim settled",
                f"{signal.insurer_code} {signal.amount_cents / 100:.2f} CNY",
            )

    @workflow.signal(name=CLAIM_ASSESSED_SIGNAL)
    def claim_assessed(self, signal: ClaimAssessedSignal) -> None:
        self._claim_numbers.setdefault(signal.insurer_code, signal.claim_number)
        if signal.insurer_code not in self._claims_assessed:
            self._claims_assessed[signal.insurer_code] = signal
            self._record(
                "claim assessed",
                f"{signal.insurer_code} {signal.amount_cents / 100:.2f} CNY",
            )

    @workflow.signal(name=CLAIM_REFUSED_SIGNAL)
    def claim_refused(self, signal: ClaimRefusedSignal) -> None:
        self._claim_numbers.setdefault(signal.insurer_code, signal.claim_number)
        closed = self._claims_settled.keys() | self._claims_refused.keys()
        if signal.insurer_code not in closed:
            self._claims_refused[signal.insurer_code] = signal.reason
            self._record("claim refused", f"{signal.insurer_code}: {signal.reason}")

    @workflow.signal(name=SETTLEMENT_CONFIRMED_SIGNAL)
    def settlement_confirmed(self, signal: SettlementConfirmedSignal) -> None:
        if signal.insurer_code not in self._claims_confirmed:
            self._claims_confirmed[signal.insurer_code] = signal
            payee = signal.payee
            self._record(
                "settlement confirmed",
                f"{signal.insurer_code} {signal.claim_number} by party "
                f"{signal.party_id}, payee {payee.bank} "
                f"{payee.account_number_masked}",
            )

    @workflow.query(name=TIMELINE_QUERY)
    def timeline(self) -> CaseTimeline:
        return CaseTimeline(stage=self._stage, entries=self._timeline)

    @workflow.query(name=SETTLEMENT_QUERY)
    def settlement(self) -> SettlementState:
        codes = (
            self._claims_opened.keys()
            | self._claims_assessed.keys()
            | self._claims_settled.keys()
            | self._claims_refused.keys()
        )
        return SettlementState(
            closed=self._stage is CaseStage.CLOSED,
            ruled=self._ruling is not None,
            document_number=self._document_number,
            shares=party_shares(self._request.case.parties, self._ruling),
            claims=[self._claim_state(code) for code in sorted(codes)],
        )

    def _claim_state(self, code: str) -> ClaimState:
        assessed = self._claims_assessed.get(code)
        confirmed = self._claims_confirmed.get(code)
        status = claim_status(
            code,
            set(self._claims_assessed),
            set(self._claims_settled),
            set(self._claims_refused),
        )
        party = self._claim_party(code) if assessed is not None else None
        return ClaimState(
            insurer_code=code,
            claim_number=self._claim_numbers.get(code, ""),
            status=status,
            party_id=party.party_id if party else None,
            assessed_cents=assessed.amount_cents if assessed else None,
            settled_cents=self._claims_settled.get(code),
            refusal_reason=self._claims_refused.get(code, ""),
            confirmed_payee=confirmed.payee if confirmed else None,
        )

    async def _check_until_accepted(
        self, video: StoredEvidence
    ) -> tuple[StoredEvidence, ExamineEvidenceResult] | None:
        """Check the video, and each replacement after a rejection, until one passes.

        Returns None when the deadline for a replacement passes or the parties have
        used every attempt.
        """
        while True:
            examined = await self._check(video)
            rejections = [
                finding
                for finding in examined.findings
                if finding.severity is FindingSeverity.REJECT
            ]
            if not rejections:
                self._record("evidence checked", f"sha256 {video.sha256[:12]}")
                warnings = ", ".join(finding.code for finding in examined.findings)
                if warnings:
                    self._record("evidence warnings", warnings)
                await self._send_sms("evidence_received", {})
                return video, examined
            self._record(
                "evidence rejected", ", ".join(finding.code for finding in rejections)
            )
            if self._attempt >= MAX_EVIDENCE_ATTEMPTS:
                return None
            replacement = await self._await_replacement(video, rejections)
            if replacement is None:
                return None
            video = replacement
            self._attempt += 1

    async def _check(self, video: StoredEvidence) -> ExamineEvidenceResult:
        """Hash the stored object again, then examine it if the hash matches."""
        case = self._request.case
        queue = None
        if workflow.patched(EVIDENCE_TASK_QUEUE_PATCH):
            queue = evidence_task_queue(workflow.info().task_queue)
        hashed = await workflow.execute_activity_method(
            EvidenceActivities.hash_evidence,
            HashEvidenceInput(
                case_id=case.case_id,
                video=video,
                custody_event_id=workflow.uuid4(),
                trace_id=self._request.trace_id,
            ),
            task_queue=queue,
            start_to_close_timeout=CHECK_TIMEOUT,
            heartbeat_timeout=CHECK_HEARTBEAT_TIMEOUT,
            retry_policy=CHECK_RETRY,
        )
        if hashed.missing or hashed.sha256 != video.sha256:
            return ExamineEvidenceResult(
                findings=[_storage_finding(video, hashed.sha256)]
            )
        return await workflow.execute_activity_method(
            EvidenceActivities.examine_evidence,
            ExamineEvidenceInput(
                case=case, video=video, trace_id=self._request.trace_id
            ),
            task_queue=queue,
            start_to_close_timeout=CHECK_TIMEOUT,
            heartbeat_timeout=CHECK_HEARTBEAT_TIMEOUT,
            retry_policy=CHECK_RETRY,
        )

    async def _await_replacement(
        self, video: StoredEvidence, rejections: list[EvidenceFinding]
    ) -> StoredEvidence | None:
        """Announce what to redo, then wait for a new video until a deadline.

        Intake takes the announcement, lets the case take a new upload and texts
        each party the reason with a link of its own to the phone page.
        """
        request = self._request
        window = timedelta(seconds=request.resubmission_window_seconds)
        deadline = workflow.now() + window
        self._stage = CaseStage.AWAITING_RESUBMISSION
        self._replacement = None
        message = " ".join(finding.message for finding in rejections)
        message_zh = "".join(finding.message_zh for finding in rejections)
        await workflow.execute_activity_method(
            CaseActivities.request_resubmission,
            EvidenceRejected(
                **self._event_fields(),
                object_key=video.object_key,
                findings=rejections,
                message=message,
                message_zh=message_zh,
                resubmit_by=deadline,
                attempt=self._attempt,
            ),
            start_to_close_timeout=PUBLISH_TIMEOUT,
            retry_policy=PUBLISH_RETRY,
        )
        try:
            await workflow.wait_condition(
                lambda: self._replacement is not None, timeout=window
            )
        except TimeoutError:
            self._record("resubmission overdue", f"no new video by {deadline}")
            return None
        replacement = self._replacement
        assert replacement is not None
        self._stage = CaseStage.CHECKING_EVIDENCE
        self._record("evidence resubmitted", f"sha256 {replacement.sha256[:12]}")
        return replacement

    async def _send_on_scene(self) -> CaseOutcome:
        self._record("sent to on-scene handling")
        await self._send_sms("evidence_sent_on_scene", {})
        return await self._close("sent_on_scene")

    def _record(self, step: str, detail: str = "", at: datetime | None = None) -> None:
        entry = TimelineEntry(at=at or workflow.now(), step=step, detail=detail)
        self._timeline.append(entry)

    def _event_fields(self) -> dict[str, object]:
        # Ids and times from the workflow are the same on replay and on retry.
        return {
            "event_id": workflow.uuid4(),
            "case_id": self._request.case.case_id,
            "occurred_at": workflow.now(),
            "trace_id": self._request.trace_id,
        }

    async def _send_sms(
        self,
        template: str,
        variables: dict[str, str],
        per_party: Callable[[Party], dict[str, str]] | None = None,
    ) -> None:
        case = self._request.case
        messages = [
            SmsRequested(
                **self._event_fields(),
                message_id=f"{case.case_id}:{template}:{party.party_id}",
                party_id=party.party_id,
                phone=party.phone,
                template=template,
                variables={
                    "case_number": str(case.case_id)[:8],
                    "plate": party.plate,
                    **variables,
                    **(per_party(party) if per_party else {}),
                },
            )
            for party in case.parties
        ]
        await workflow.execute_activity_method(
            CaseActivities.request_sms,
            SmsBatch(messages=messages),
            start_to_close_timeout=PUBLISH_TIMEOUT,
            retry_policy=PUBLISH_RETRY,
        )
        self._record("sms requested", template)

    async def _issue_document(self, ruling: Ruling) -> DocumentIssued:
        case = self._request.case
        ruled_at = workflow.now()
        content = RulingDocumentContent(
            document_number=ruling_document_number(case.case_id, ruled_at),
            case_id=case.case_id,
            issued_at=ruled_at,
            accident_at=case.accident_at,
            location=case.location,
            parties=[_summary(party) for party in case.parties],
            ruling=ruling,
            evidence_sha256=[self._request.video.sha256],
        )
        issued = await workflow.execute_activity_method(
            DocumentActivities.issue_ruling_document,
            content,
            start_to_close_timeout=DOCUMENT_TIMEOUT,
            retry_policy=PUBLISH_RETRY,
        )
        document = issued.document
        self._record(
            "ruling document issued",
            f"{document.document_number} sha256 {document.sha256[:12]}",
        )
        return issued

    async def _start_review(self, issued: DocumentIssued) -> None:
        """Start the review of the delivered ruling as a child that outlives the
        case, so that settlement does not wait for the reconsideration period.
        """
        await workflow.start_child_workflow(
            RulingReviewWorkflow.run,
            ReviewInput(
                case=self._request.case,
                content=issued.content,
                document=issued.document,
                trace_id=self._request.trace_id,
            ),
            id=review_workflow_id(self._request.case.case_id),
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        self._record("ruling review started", issued.document.document_number)

    async def _close(self, outcome: str) -> CaseOutcome:
        await workflow.execute_activity_method(
            CaseActivities.publish_case_closed,
            CaseClosed(**self._event_fields(), outcome=outcome),
            start_to_close_timeout=PUBLISH_TIMEOUT,
            retry_policy=PUBLISH_RETRY,
        )
        self._stage = CaseStage.CLOSED
        self._record("case closed", outcome)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return CaseOutcome(outcome=outcome, timeline=self._timeline)


def _document_sms_variables(issued: DocumentIssued) -> dict[str, str]:
    document = issued.document
    deadline = document.reconsideration_deadline
    if deadline is None:
        by_when = f"送达之日起{RECONSIDERATION_WORKING_DAYS}个工作日内"
    else:
        # The deadline is midnight China time, printed as 24:00 of the day before.
        last_day = deadline.astimezone(CHINA_TIME).date() - timedelta(days=1)
        by_when = f"{last_day:%m月%d日}24时前"
    return {"document_number": document.document_number, "deadline": by_when}


def _summary(party: Party) -> PartySummary:
    return PartySummary(
        party_id=party.party_id,
        name=party.name,
        plate=party.plate,
        insurer_code=party.insurer_code,
        policy_number=party.policy_number,
    )


def _storage_finding(video: StoredEvidence, actual_sha256: str) -> EvidenceFinding:
    """Reject a stored video that is missing or whose bytes changed since upload."""
    if not actual_sha256:
        problem = f"the stored video {video.object_key} is missing"
    else:
        problem = (
            f"the stored video's SHA-256 {actual_sha256} differs from "
            f"{video.sha256} taken at upload"
        )
    return EvidenceFinding(
        code="stored_video_damaged",
        severity=FindingSeverity.REJECT,
        message=f"Rejected: {problem}; upload the video again",
        message_zh="视频未通过：存储的视频已丢失或损坏，请重新上传。",
    )
