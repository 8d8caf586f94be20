"""Ruling documents: Chinese text in the PDF, signatures and verification."""

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader

from contracts.case import Location
from contracts.documents import (
    DocumentKind,
    PartyAnswer,
    PartyAnswerKind,
    ReconsiderationOutcome,
    RulingDocumentContent,
)
from contracts.events import PartySummary
from contracts.ruling import Ruling
from documents.archive import DocumentArchive
from documents.issue import DocumentIssuer
from documents.keys import (
    create_key_files,
    key_id,
    load_private_key,
    load_public_key,
    public_key_path,
    public_key_pem,
    sign_sha256,
    signature_is_valid,
    verification_code,
)
from documents.numbers import reconsideration_document_number, ruling_document_number
from documents.printed import printed_verification_code
from documents.render import DEFAULT_FONT_FILE, FontMissingError, render_pdf
from documents.verify import verify_document

CASE_ID = UUID("1a2b3c4d-0000-4000-8000-000000000001")
VIDEO_SHA256 = "ab" * 32


class MemoryStore:
    """Objects kept in a dict, for unit tests only."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    async def put_bytes(
        self, key: str, data: bytes, content_type: str, sha256: str
    ) -> None:
        self.objects[key] = data

    async def get_bytes(self, key: str) -> bytes:
        return self.objects[key]

    async def list_keys(self, prefix: str) -> list[str]:
        return [key for key in self.objects if key.startswith(prefix)]


def content(**changes: object) -> RulingDocumentContent:
    ruled_at = datetime(2026, 12, 4, 2, 30, tzinfo=UTC)
    base = RulingDocumentContent(
        document_number=ruling_document_number(CASE_ID, ruled_at),
        case_id=CASE_ID,
        issued_at=ruled_at,
        accident_at=datetime(2026, 12, 4, 1, 10, tzinfo=UTC),
        location=Location(
            latitude=30.27, longitude=120.15, address="杭州市西湖区文三路"
        ),
        parties=[
            PartySummary(
                party_id="A",
                name="张三",
                plate="浙A12345",
                insurer_code="PICC",
                policy_number="PDAA2026001",
            ),
            PartySummary(
                party_id="B",
                name="李四",
                plate="浙B54321",
                insurer_code="PAIC",
                policy_number="PAIC-2026-9",
            ),
        ],
        ruling=Ruling.model_validate(
            {
                "officer_id": "330102",
                "facts": "乙车未与前车保持安全距离，追尾等候信号的甲车。",
                "rule_applied": "《中华人民共和国道路交通安全法》第四十三条",
                "accident_type": "rear_end",
                "liabilities": [
                    {"party_id": "A", "category": "none", "share": 0},
                    {"party_id": "B", "category": "full", "share": 100},
                ],
            }
        ),
        accident_type_name_zh="追尾",
        evidence_sha256=[VIDEO_SHA256],
        reconsideration_deadline=datetime(2026, 12, 9, 16, 0, tzinfo=UTC),
    )
    return base.model_copy(update=changes)


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "")


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def issuer(key: Ed25519PrivateKey) -> tuple[DocumentIssuer, DocumentArchive]:
    archive = DocumentArchive(MemoryStore())
    issuer = DocumentIssuer(
        key, archive, "http://127.0.0.1/documents/verify", DEFAULT_FONT_FILE
    )
    return issuer, archive


def test_document_number_format() -> None:
    number = ruling_document_number(CASE_ID, datetime(2026, 12, 4, 17, 0, tzinfo=UTC))

    assert number == "DZ20261205-1A2B3C4D"  # 01:00 on 5 December in China
    assert reconsideration_document_number(number) == "DZ20261205-1A2B3C4D-F"


def test_pdf_prints_every_field_in_chinese(key: Ed25519PrivateKey) -> None:
    document = content(
        answers=[
            PartyAnswer(
                party_id="A",
                answer=PartyAnswerKind.ACKNOWLEDGED,
                answered_at=datetime(2026, 12, 4, 3, 0, tzinfo=UTC),
            ),
            PartyAnswer(
                party_id="B",
                answer=PartyAnswerKind.REFUSED,
                answered_at=datetime(2026, 12, 4, 3, 5, tzinfo=UTC),
                reason="前车急刹",
            ),
        ]
    )
    code = verification_code(key, document.document_number)

    text = pdf_text(render_pdf(document, code, "https://verify.example/documents"))

    for expected in [
        "道路交通事故认定书（简易程序）",
        "文书编号：DZ20261204-1A2B3C4D",
        f"验证码：{code[:4]}-{code[4:]}",
        "2026年12月04日 09时10分",
        "杭州市西湖区文三路",
        "张三",
        "李四",
        "浙A12345",
        "浙B54321",
        "中国人民财产保险",
        "中国平安财产保险",
        "乙车未与前车保持安全距离",
        "事故类型：追尾",
        "当事人甲承担无责任（0%）",
        "当事人乙承担全部责任（100%）",
        "《中华人民共和国道路交通安全法》第四十三条",
        "认定民警警号：330102",
        "3个工作日内，即2026年12月09日24时前",
        VIDEO_SHA256,
        "当事人甲于2026年12月04日 11时00分以短信验证码确认签收",
        "当事人乙于2026年12月04日 11时05分拒绝签收，理由：前车急刹",
    ]:
        assert expected in text, expected


def test_reconsideration_pdf_names_first_ruling(key: Ed25519PrivateKey) -> None:
    document = content(
        document_number="DZ20261204-1A2B3C4D-F",
        kind=DocumentKind.RECONSIDERATION,
        replaces_document="DZ20261204-1A2B3C4D",
        reconsideration_outcome=ReconsiderationOutcome.CONFIRMED,
        reconsideration_reason="视频显示乙车未保持车距。",
    )

    text = pdf_text(render_pdf(document, "ABCDEFGH", "https://verify.example"))

    assert "道路交通事故认定复核结论" in text
    assert "原认定书编号：DZ20261204-1A2B3C4D" in text
    assert "维持原认定" in text
    assert "不再受理复核申请" in text


def test_same_content_renders_same_bytes() -> None:
    first = render_pdf(content(), "ABCDEFGH", "https://verify.example")
    second = render_pdf(content(), "ABCDEFGH", "https://verify.example")

    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()


def test_printed_code_read_back(key: Ed25519PrivateKey) -> None:
    document = content()
    code = verification_code(key, document.document_number)
    pdf = render_pdf(document, code, "https://verify.example/documents/verify")

    assert printed_verification_code(pdf) == code


def test_printed_code_absent() -> None:
    assert printed_verification_code(b"not a pdf") is None
    assert printed_verification_code(b"%PDF-1.4\n%%EOF\n") is None


def test_missing_font_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(FontMissingError, match="make fonts"):
        render_pdf(content(), "ABCDEFGH", "x", tmp_path / "missing.ttc")


async def test_genuine_pdf_verifies(
    key: Ed25519PrivateKey, issuer: tuple[DocumentIssuer, DocumentArchive]
) -> None:
    documents, archive = issuer
    issued = await documents.issue(content())
    pdf = await archive.pdf(issued)
    code = verification_code(key, issued.document_number)

    result = verify_document(
        await archive.records(issued.document_number),
        issued.document_number,
        code.lower(),
        hashlib.sha256(pdf).hexdigest(),
        key.public_key(),
    )

    assert result.genuine
    assert result.reason == "genuine"
    assert result.version == 1
    assert result.latest_version == 1
    # The result carries what an offline check needs besides the public key.
    assert result.sha256 == hashlib.sha256(pdf).hexdigest()
    assert result.signature == issued.signature
    assert result.key_id == issued.key_id


async def test_one_changed_byte_fails(
    key: Ed25519PrivateKey, issuer: tuple[DocumentIssuer, DocumentArchive]
) -> None:
    documents, archive = issuer
    issued = await documents.issue(content())
    pdf = bytearray(await archive.pdf(issued))
    pdf[len(pdf) // 2] ^= 0x01
    code = verification_code(key, issued.document_number)

    result = verify_document(
        await archive.records(issued.document_number),
        issued.document_number,
        code,
        hashlib.sha256(bytes(pdf)).hexdigest(),
        key.public_key(),
    )

    assert not result.genuine
    assert result.reason == "altered"
    assert result.signature is None


async def test_wrong_code_fails(
    key: Ed25519PrivateKey, issuer: tuple[DocumentIssuer, DocumentArchive]
) -> None:
    documents, archive = issuer
    issued = await documents.issue(content())
    pdf = await archive.pdf(issued)
    wrong = verification_code(key, "DZ20261204-FFFFFFFF")

    result = verify_document(
        await archive.records(issued.document_number),
        issued.document_number,
        wrong,
        hashlib.sha256(pdf).hexdigest(),
        key.public_key(),
    )

    assert not result.genuine
    assert result.reason == "code_mismatch"
    assert result.version is None


async def test_other_key_signature_fails(
    key: Ed25519PrivateKey, issuer: tuple[DocumentIssuer, DocumentArchive]
) -> None:
    documents, archive = issuer
    issued = await documents.issue(content())
    pdf = await archive.pdf(issued)

    result = verify_document(
        await archive.records(issued.document_number),
        issued.document_number,
        verification_code(key, issued.document_number),
        hashlib.sha256(pdf).hexdigest(),
        Ed25519PrivateKey.generate().public_key(),
    )

    assert not result.genuine
    assert result.reason == "signature_invalid"


async def test_earlier_version_still_verifies(
    key: Ed25519PrivateKey, issuer: tuple[DocumentIssuer, DocumentArchive]
) -> None:
    documents, archive = issuer
    first = await documents.issue(content())
    refused = PartyAnswer(
        party_id="B",
        answer=PartyAnswerKind.REFUSED,
        answered_at=datetime(2026, 12, 4, 3, 5, tzinfo=UTC),
    )
    second = await documents.issue(content(version=2, answers=[refused]))
    code = verification_code(key, first.document_number)
    records = await archive.records(first.document_number)

    result = verify_document(
        records, first.document_number, code, first.sha256, key.public_key()
    )

    assert second.sha256 != first.sha256
    assert [record.version for record in records] == [1, 2]
    assert result.genuine
    assert result.version == 1
    assert result.latest_version == 2


def test_unknown_document_fails(key: Ed25519PrivateKey) -> None:
    result = verify_document([], "DZ20261204-00000000", "X", "0" * 64, key.public_key())

    assert not result.genuine
    assert result.reason == "unknown_document"


def test_key_files_created_once(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing.pem"

    created = create_key_files(path)
    again = create_key_files(path)
    private_key = load_private_key(path)
    public_key = load_public_key(public_key_path(path))

    assert created
    assert not again
    assert path.stat().st_mode & 0o777 == 0o600
    assert private_key.public_key() == public_key


def test_public_key_pem_round_trips(key: Ed25519PrivateKey, tmp_path: Path) -> None:
    path = tmp_path / "documents.pub.pem"
    path.write_bytes(public_key_pem(key.public_key()))
    digest = hashlib.sha256(b"a ruling document").hexdigest()

    loaded = load_public_key(path)

    assert path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert key_id(loaded) == key_id(key.public_key())
    assert signature_is_valid(loaded, digest, sign_sha256(key, digest))
