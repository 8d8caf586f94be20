"""The connections the liability service's request handlers share while it runs."""

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from faststream.kafka import KafkaBroker
from temporalio.client import Client

from common.storage import EvidenceStore
from contracts.accident_types import AccidentTypeTable
from documents.archive import DocumentArchive
from services.liability.audit import AuditLog
from services.liability.claims import ClaimStore
from services.liability.reconsiderations import ReconsiderationStore
from services.liability.settings import LiabilitySettings
from services.liability.store import QueueStore


@dataclass(frozen=True)
class LiabilityRuntime:
    settings: LiabilitySettings
    queue: QueueStore
    claims: ClaimStore
    audit: AuditLog
    evidence: EvidenceStore
    temporal: Client
    accident_types: AccidentTypeTable
    documents: DocumentArchive
    document_public_key: Ed25519PublicKey
    reconsiderations: ReconsiderationStore
    broker: KafkaBroker
