"""The connections intake's request handlers share while the service runs."""

from dataclasses import dataclass

from faststream.kafka import KafkaBroker
from temporalio.client import Client

from common.multipart import MultipartStorage
from common.storage import EvidenceStore
from documents.archive import DocumentArchive
from identity.attempts import AttemptGuard
from identity.party_access import OneTimeCodes, PartyTokens
from identity.revocations import RevocationList
from services.intake.settings import IntakeSettings
from services.intake.settlement_store import SettlementStore
from services.intake.staff import StaffVerifier
from services.intake.store import CaseStore
from services.intake.upload_store import UploadStore


@dataclass(frozen=True)
class IntakeRuntime:
    settings: IntakeSettings
    cases: CaseStore
    evidence: EvidenceStore
    broker: KafkaBroker
    party_tokens: PartyTokens
    party_codes: OneTimeCodes
    revocations: RevocationList
    # Rate limits of code requests (all count) and code entries (failures count).
    code_requests: AttemptGuard
    code_entries: AttemptGuard
    multipart: MultipartStorage
    uploads: UploadStore
    settlements: SettlementStore
    # The ruling's review workflow and its documents, for the party's phone.
    temporal: Client
    documents: DocumentArchive
    staff_verifier: StaffVerifier | None = None
