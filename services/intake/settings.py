"""Intake's settings."""

from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

from pydantic import Field, SecretStr

from common.settings import PlatformSettings
from identity.attempts import AttemptLimit
from identity.party_access import PartyAccessPolicy
from identity.settings import IdentitySettings

MIB = 1024**2


class IntakeSettings(PlatformSettings, IdentitySettings):
    intake_host: str = "127.0.0.1"
    intake_port: int = 8101
    intake_public_url: str = Field(
        default="",
        description="Address of the phone page in SMS links; empty means "
        "http://127.0.0.1:<intake port>",
    )
    intake_manage_bucket_cors: bool = Field(
        default=True,
        description="Add the phone page's origin to the bucket's CORS rule at "
        "start-up; turn off where the deployment sets CORS itself",
    )
    intake_max_video_bytes: int = 1024**3
    intake_max_photo_bytes: int = 20 * MIB
    intake_max_photos: int = Field(default=10, ge=0)
    # S3 and SeaweedFS reject parts under 5 MiB, except the last one.
    intake_part_size_bytes: int = Field(default=8 * MIB, ge=5 * MIB, le=512 * MIB)
    intake_part_url_seconds: int = Field(
        default=900, ge=1, le=3600, description="Lifetime of a presigned part URL"
    )
    intake_upload_hours: float = Field(
        default=24.0, gt=0, description="An unfinished upload expires after this"
    )
    intake_remote_max_vehicles: int = Field(
        default=3,
        ge=2,
        description="Most vehicles a case may involve and still be settled remotely",
    )
    party_access_secret: SecretStr = Field(
        default=SecretStr("dingze-local-party-access-secret"),
        description="HMAC key of party link and session tokens; set in production",
    )
    party_link_hours: float = Field(default=24.0, gt=0)
    party_code_minutes: float = Field(default=5.0, gt=0)
    party_code_max_attempts: int = Field(default=5, ge=1)
    party_session_hours: float = Field(default=2.0, gt=0)
    party_code_requests_per_party: int = Field(
        default=5,
        ge=1,
        description="Codes texted to one party of a case within the window",
    )
    party_code_requests_per_client: int = Field(
        default=60,
        ge=1,
        description="Code requests from one client address within the window",
    )
    party_code_failures_per_party: int = Field(
        default=10,
        ge=1,
        description="Failed code entries of one party of a case within the window",
    )
    party_code_failures_per_client: int = Field(
        default=30,
        ge=1,
        description="Failed code entries from one client address within the window",
    )
    party_attempt_window_minutes: float = Field(default=60.0, gt=0)
    # A week lets a party find the bank details without leaving a texted link
    # usable for the whole 30 days a claim may stay open.
    settlement_link_hours: float = Field(
        default=168.0,
        gt=0,
        description="Lifetime of the settlement link texted when a claim is "
        "assessed, in hours",
    )

    def public_url(self) -> str:
        return (
            self.intake_public_url or f"http://127.0.0.1:{self.intake_port}"
        ).rstrip("/")

    def public_origin(self) -> str:
        parts = urlsplit(self.public_url())
        return f"{parts.scheme}://{parts.netloc}"

    def party_access_policy(self) -> PartyAccessPolicy:
        return PartyAccessPolicy(
            secret=self.party_access_secret.get_secret_value().encode(),
            link_lifetime=timedelta(hours=self.party_link_hours),
            code_lifetime=timedelta(minutes=self.party_code_minutes),
            code_max_attempts=self.party_code_max_attempts,
            session_lifetime=timedelta(hours=self.party_session_hours),
        )

    def code_request_limits(self) -> tuple[AttemptLimit, AttemptLimit]:
        """Return the limits of codes requested per party and per client."""
        window = timedelta(minutes=self.party_attempt_window_minutes)
        return (
            AttemptLimit(self.party_code_requests_per_party, window),
            AttemptLimit(self.party_code_requests_per_client, window),
        )

    def code_failure_limits(self) -> tuple[AttemptLimit, AttemptLimit]:
        """Return the limits of failed code entries per party and per client."""
        window = timedelta(minutes=self.party_attempt_window_minutes)
        return (
            AttemptLimit(self.party_code_failures_per_party, window),
            AttemptLimit(self.party_code_failures_per_client, window),
        )

    def settlement_link_policy(self) -> PartyAccessPolicy:
        """Return the party access policy with the settlement link's lifetime."""
        return replace(
            self.party_access_policy(),
            link_lifetime=timedelta(hours=self.settlement_link_hours),
        )
