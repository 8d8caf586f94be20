"""Connection settings read from the environment, with the local stack's defaults."""

from datetime import timedelta
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from evidence import VideoLimits
from evidence.examine import EvidenceRules
from evidence.quality import QualityThresholds
from evidence.scene import SceneTolerances

ROOT = Path(__file__).resolve().parents[1]
# Values that only the local stack may use: secrets anyone can read here, and the
# staff file of the development accounts, whose passwords the docs print.
LOCAL_DEVELOPMENT_DEFAULTS: dict[str, object] = {
    "s3_access_key": "dingze",
    "s3_secret_key": "dingze-local-secret",
    "party_access_secret": "dingze-local-party-access-secret",
    "identity_staff_file": ROOT / "deploy" / "local" / "staff.json",
}


def local_defaults_in_use(settings: BaseSettings) -> list[str]:
    """Return the variables of the settings that keep a local development default.

    The staff file counts only while the local identity provider reads it.
    """
    found = []
    for name, default in LOCAL_DEVELOPMENT_DEFAULTS.items():
        if name not in type(settings).model_fields:
            continue
        if name == "identity_staff_file" and (
            getattr(settings, "identity_provider", "local") != "local"
        ):
            continue
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value == default:
            found.append(f"DINGZE_{name.upper()}")
    return found


class PlatformSettings(BaseSettings):
    """Engine addresses and shared limits, each from a ``DINGZE_`` variable."""

    model_config = SettingsConfigDict(env_prefix="DINGZE_", extra="ignore")

    deployment: Literal["local", "production"] = Field(
        default="local",
        description="production: refuse to start while a secret or the staff file "
        "keeps its local development default",
    )
    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_topic_prefix: str = Field(
        default="",
        description="Prefix of every topic and consumer group, to run isolated copies",
    )
    kafka_partitions: int = 6
    kafka_max_message_bytes: int = Field(
        default=256 * 1024,
        gt=0,
        description="Maximum size of a message a consumer handles, in bytes; a "
        "larger one goes to the dead-letter topic",
    )
    database_url: str = "postgresql://dingze@127.0.0.1:15432/dingze"
    s3_endpoint: str = "127.0.0.1:18333"
    s3_access_key: str = "dingze"
    s3_secret_key: str = "dingze-local-secret"
    s3_bucket: str = "dingze-evidence"
    s3_secure: bool = False
    s3_public_url: str = Field(
        default="",
        description="Storage address that phones reach, in presigned URLs; empty "
        "means the endpoint above",
    )
    temporal_address: str = "127.0.0.1:17233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "remote-liability-cases"
    log_level: str = "INFO"
    ruling_target_minutes: float = Field(
        default=30.0,
        gt=0,
        description="Minutes from queueing to ruling before a case is escalated",
    )
    outbox_relay: bool = Field(
        default=True,
        description="Relay the process's outbox to Kafka; off when a relay runs apart",
    )
    outbox_poll_seconds: float = Field(
        default=5.0, description="Pause between outbox scans when no commit wakes it"
    )
    # Intake checks uploads and the workflow checks stored evidence with these.
    video_min_seconds: float = 5.0
    video_max_seconds: float = 600.0
    # The case worker's evidence checks read the rest.
    evidence_recording_tolerance_minutes: float = Field(
        default=120, gt=0, description="Largest gap between recording and accident"
    )
    evidence_location_tolerance_meters: float = Field(
        default=1000, gt=0, description="Largest distance of the video's GPS point"
    )
    evidence_min_mean_luma: float = Field(
        default=40, description="Mean luma (0-255) under which a video is too dark"
    )
    evidence_min_sharpness: float = Field(
        default=50, description="Laplacian variance under which a video is blurred"
    )
    evidence_walkaround_seconds: float = Field(
        default=20, description="Duration under which a walk-around is too short"
    )
    evidence_decode_processes: int | None = Field(
        default=None,
        ge=1,
        description="Processes in which an evidence worker decodes videos; "
        "unset means one per CPU core",
    )
    case_worker_cached_workflows: int = Field(
        default=250,
        ge=0,
        description="Workflows a case worker keeps in memory between their tasks "
        "(least recently used evicted first); 0 keeps none",
    )
    evidence_resubmission_minutes: float = Field(
        default=120, gt=0, description="How long a party has to replace a video"
    )

    # Ruling documents: the case worker signs with the private key, and the
    # liability service verifies with the public key beside it.
    document_key_file: Path = ROOT / ".stack" / "keys" / "document-signing.pem"
    document_font_file: Path = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
    document_verify_url: str = Field(
        default="http://127.0.0.1:8102/documents/verify",
        description="Where the printed text sends readers to verify a document",
    )
    accident_types_file: Path | None = Field(
        default=None,
        description="A province's accident-type table; None uses the bundled one",
    )
    working_days_file: Path | None = Field(
        default=None,
        description="JSON file of public holidays and adjusted working days by "
        "year, used before the chinese-calendar package",
    )

    @model_validator(mode="after")
    def _production_replaces_local_defaults(self) -> Self:
        if self.deployment == "production":
            in_use = local_defaults_in_use(self)
            if in_use:
                raise ValueError(
                    "DINGZE_DEPLOYMENT is production, but these settings keep their "
                    f"local development defaults: {', '.join(in_use)}; set each one "
                    "from the secret store"
                )
        return self

    def video_limits(self) -> VideoLimits:
        return VideoLimits(
            min_seconds=self.video_min_seconds, max_seconds=self.video_max_seconds
        )

    def evidence_rules(self) -> EvidenceRules:
        return EvidenceRules(
            limits=self.video_limits(),
            scene=SceneTolerances(
                recording_time=timedelta(
                    minutes=self.evidence_recording_tolerance_minutes
                ),
                distance_meters=self.evidence_location_tolerance_meters,
            ),
            quality=QualityThresholds(
                min_mean_luma=self.evidence_min_mean_luma,
                min_sharpness=self.evidence_min_sharpness,
                walkaround_seconds=self.evidence_walkaround_seconds,
            ),
        )
