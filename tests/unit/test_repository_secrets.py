"""No tracked file contains a private key, a real-looking token or a password.

Secrets come from the environment or from files outside the repository (under
``.stack/`` locally, never committed). The only secret-like values allowed are the
local stack's development defaults listed below, each of which names itself as
local or as belonging to a test or a fake.
"""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Local development defaults and test values, each marked as such by its name.
ALLOWED_VALUES = {
    "dingze-local-secret": "the local stack's S3 secret key",
    "dingze-local-party-access-secret": "intake's development party-access key",
    "fake-gateway-key": "the fake SMS gateway's API key, on loopback",
    "receipt-secret-for-tests": "the receipt secret a test gives notify",
    "not-the-password": "a wrong password that a test sends",
    # base64 of {"kind":"link"} and of the word "signature"
    "eyJraW5kIjoibGluayJ9.c2lnbmF0dXJl": "a forged link token that a test sends",
}
# Placeholders in deployment templates, to be replaced from a secret store.
PLACEHOLDERS = {"PASSWORD", "SET-ME", "USER"}
# The development accounts' passwords end in "-local" (deploy/local/README.md).
LOCAL_PASSWORD = re.compile(r"^[a-z0-9-]+-local$")
# The development accounts' scrypt hashes; the production staff file lives elsewhere.
LOCAL_STAFF_FILE = "deploy/local/staff.json"

_SECRET_NAME = r"(?:password|passwd|secret|token|api[_-]?key|access[_-]?key)"
PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "JSON Web Token": re.compile(
        r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    ),
}
# A password in a URL, as in scheme://USER:PASSWORD@host.
URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:([^@\s/'\"]+)@")
# A quoted value given to a secret-like name, in Python, JSON, YAML or shell.
ASSIGNED_SECRET = re.compile(
    rf"(?i)[\w-]*{_SECRET_NAME}[\w-]*['\"]?\s*[:=]\s*['\"]([^'\"\s]{{8,}})['\"]"
)


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [ROOT / name for name in listed.split("\0") if name]


def _text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def _allowed(value: str, path: str) -> bool:
    if value in ALLOWED_VALUES or value in PLACEHOLDERS:
        return True
    if LOCAL_PASSWORD.match(value):
        return True
    return path == LOCAL_STAFF_FILE and value.startswith("scrypt$")


def findings(path: str, text: str) -> list[str]:
    """List what in one file looks like a real secret, as ``path:line: kind``."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for kind, pattern in PATTERNS.items():
            if pattern.search(line):
                found.append(f"{path}:{number}: {kind}")
        for match in URL_PASSWORD.finditer(line):
            if not _allowed(match.group(1), path):
                found.append(f"{path}:{number}: password in a URL")
        for match in ASSIGNED_SECRET.finditer(line):
            if not _allowed(match.group(1), path):
                found.append(f"{path}:{number}: quoted secret value")
    return found


def test_tracked_files_hold_no_secrets() -> None:
    found = []
    for path in tracked_files():
        if not path.is_file():
            continue
        text = _text(path)
        if text is not None:
            found += findings(str(path.relative_to(ROOT)), text)

    assert found == [], "secrets in tracked files:\n" + "\n".join(found)


def test_no_key_files_are_tracked() -> None:
    names = [path.relative_to(ROOT).as_posix() for path in tracked_files()]

    assert [name for name in names if name.startswith(".stack/")] == []
    assert [name for name in names if name.endswith((".pem", ".key"))] == []
    assert [name for name in names if name.endswith("personal-data.json")] == []


def test_key_directory_is_ignored() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".stack/keys/personal-data.json"],
        cwd=ROOT,
        check=False,
    )

    assert ignored.returncode == 0


# The samples are put together at run time, so that this file contains none of them.
@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("-----BEGIN " + "PRIVATE KEY-----", "private key"),
        ("-----BEGIN RSA " + "PRIVATE KEY-----", "private key"),
        ("aws_key = " + "AKIA" + "Q" * 16, "AWS access key id"),
        ("GITHUB=" + "ghp_" + "a1" * 18, "GitHub token"),
        ("auth: eyJ" + "h" * 10 + ".eyJ" + "p" * 10 + "." + "s" * 10, "JSON Web Token"),
        ("url = 'postgresql://app:" + "Tr0ub4dor@db:5432/x'", "password in a URL"),
        ("DB_PASSWORD=" + '"' + "c0rrect-h0rse" + '"', "quoted secret value"),
        ('{"api_key": "' + "9f8e7d6c5b4a" + '"}', "quoted secret value"),
        ("secret_key: '" + "x" * 24 + "'", "quoted secret value"),
    ],
)
def test_scanner_finds_real_looking_secret(line: str, kind: str) -> None:
    assert findings("sample.py", line) == [f"sample.py:1: {kind}"]


@pytest.mark.parametrize(
    "line",
    [
        's3_secret_key: str = "dingze-local-secret"',
        '"postgresql://USER:PASSWORD@postgres.db:5432/dingze"',
        'json={"username": "officer", "password": "officer-local"}',
        "secret = new_secret()",
        'DINGZE_PARTY_ACCESS_SECRET: "SET-ME"',
    ],
)
def test_scanner_allows_marked_local_defaults(line: str) -> None:
    assert findings("sample.py", line) == []
