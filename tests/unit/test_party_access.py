"""Party link and session tokens: signed, bound to one case and party, expiring."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from identity.party_access import PartyAccessError, PartyAccessPolicy, PartyTokens

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
POLICY = PartyAccessPolicy(secret=b"unit-test-secret-0123456789")


def test_link_token_names_its_case_and_party() -> None:
    tokens = PartyTokens(POLICY)
    case_id = uuid.uuid4()

    grant = tokens.read(tokens.issue_link(case_id, "B", NOW), "link", NOW)

    assert grant.case_id == case_id
    assert grant.party_id == "B"
    assert grant.expires_at == NOW + POLICY.link_lifetime


def test_expired_link_is_rejected() -> None:
    tokens = PartyTokens(POLICY)
    token = tokens.issue_link(uuid.uuid4(), "A", NOW)

    with pytest.raises(PartyAccessError) as caught:
        tokens.read(token, "link", NOW + POLICY.link_lifetime + timedelta(seconds=1))

    assert caught.value.code == "link_expired"
    assert "链接已过期" in caught.value.message_zh


def test_expired_settlement_link_has_own_code() -> None:
    tokens = PartyTokens(POLICY)
    token = tokens.issue_link(uuid.uuid4(), "A", NOW, purpose="settlement")
    later = NOW + POLICY.link_lifetime + timedelta(seconds=1)

    grant = tokens.read(token, "link", NOW)
    with pytest.raises(PartyAccessError) as caught:
        tokens.read(token, "link", later)

    assert grant.purpose == "settlement"
    assert caught.value.code == "settlement_link_expired"
    assert "理赔确认链接已过期" in caught.value.message_zh


def test_tampered_link_is_rejected() -> None:
    tokens = PartyTokens(POLICY)
    token = tokens.issue_link(uuid.uuid4(), "A", NOW)
    signature = token.split(".")[1]
    other = tokens.issue_link(uuid.uuid4(), "B", NOW).split(".")[0]

    with pytest.raises(PartyAccessError) as caught:
        tokens.read(f"{other}.{signature}", "link", NOW)

    assert caught.value.code == "link_invalid"


def test_link_signed_with_other_secret_is_rejected() -> None:
    other = PartyTokens(PartyAccessPolicy(secret=b"another-secret-0123456789"))
    token = other.issue_link(uuid.uuid4(), "A", NOW)

    with pytest.raises(PartyAccessError) as caught:
        PartyTokens(POLICY).read(token, "link", NOW)

    assert caught.value.code == "link_invalid"


def test_link_is_not_a_session() -> None:
    tokens = PartyTokens(POLICY)
    link = tokens.issue_link(uuid.uuid4(), "A", NOW)

    with pytest.raises(PartyAccessError) as caught:
        tokens.read(link, "session", NOW)

    assert caught.value.code == "session_invalid"


@pytest.mark.parametrize("token", ["", "abc", "a.b", "%%%.%%%", "e30.e30"])
def test_malformed_session_is_rejected(token: str) -> None:
    with pytest.raises(PartyAccessError) as caught:
        PartyTokens(POLICY).read(token, "session", NOW)

    assert caught.value.code == "session_invalid"


def test_session_carries_the_link_grant() -> None:
    tokens = PartyTokens(POLICY)
    case_id = uuid.uuid4()
    link = tokens.read(tokens.issue_link(case_id, "A", NOW), "link", NOW)

    token, expires_at = tokens.issue_session(link, NOW)
    session = tokens.read(token, "session", NOW)

    assert (session.case_id, session.party_id) == (case_id, "A")
    assert expires_at == NOW + POLICY.session_lifetime


def test_short_secret_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        PartyTokens(PartyAccessPolicy(secret=b"short"))
