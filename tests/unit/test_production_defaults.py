"""A production deployment rejects the local development secrets and staff file."""

import secrets
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from common.settings import LOCAL_DEVELOPMENT_DEFAULTS, PlatformSettings
from services.intake.settings import IntakeSettings
from services.liability.settings import LiabilitySettings

# Made at run time, so that the repository's secrets scan finds no value here.
REPLACED: dict[str, Any] = {
    "s3_access_key": secrets.token_hex(8),
    "s3_secret_key": secrets.token_hex(20),
    "party_access_secret": SecretStr(secrets.token_hex(20)),
    "identity_staff_file": Path("/etc/dingze/staff.json"),
}


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*LOCAL_DEVELOPMENT_DEFAULTS, "deployment", "identity_provider"):
        monkeypatch.delenv(f"DINGZE_{name.upper()}", raising=False)


def test_production_rejects_every_local_default() -> None:
    with pytest.raises(ValidationError) as raised:
        IntakeSettings(deployment="production")

    message = str(raised.value)
    for name in LOCAL_DEVELOPMENT_DEFAULTS:
        assert f"DINGZE_{name.upper()}" in message
    assert "secret store" in message


def test_production_rejects_one_default_in_use() -> None:
    with_default: dict[str, Any] = {
        **REPLACED,
        "s3_secret_key": LOCAL_DEVELOPMENT_DEFAULTS["s3_secret_key"],
    }

    with pytest.raises(ValidationError, match="DINGZE_S3_SECRET_KEY"):
        IntakeSettings(deployment="production", **with_default)


def test_production_reads_variable_from_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DINGZE_DEPLOYMENT", "production")

    with pytest.raises(ValidationError, match="DINGZE_S3_ACCESS_KEY"):
        PlatformSettings()


def test_production_accepts_replaced_values() -> None:
    settings = IntakeSettings(deployment="production", **REPLACED)

    assert settings.deployment == "production"


def test_staff_file_is_ignored_with_openid_connect() -> None:
    replaced: dict[str, Any] = {**REPLACED}
    del replaced["identity_staff_file"]

    settings = LiabilitySettings(
        deployment="production", identity_provider="oidc", **replaced
    )

    assert settings.identity_provider == "oidc"


def test_local_deployment_keeps_defaults() -> None:
    settings = IntakeSettings()

    assert settings.deployment == "local"
    assert settings.s3_secret_key == "dingze-local-secret"
