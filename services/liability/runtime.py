"""The connections the liability service's request handlers share while it runs."""

from dataclasses import dataclass

from faststream.kafka import KafkaBroker
from temporalio.client import Client

from common.storage import EvidenceStore
from services.liability.audit import AuditLog
from services.liability.claims import ClaimStore
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
    broker: KafkaBroker
