"""Check a PDF's SHA-256 against the issued versions of a document."""

import hmac

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from contracts.documents import IssuedDocument, VerificationResult
from documents.keys import code_digest, signature_is_valid


def verify_document(
    records: list[IssuedDocument],
    document_number: str,
    code: str,
    sha256: str,
    public_key: Ed25519PublicKey,
) -> VerificationResult:
    """Tell whether the hash is that of a version issued under the number and code.

    A wrong code is reported before the hash is compared, so a caller without the
    printed code learns nothing about the document.
    """
    if not records:
        return _result(
            document_number,
            "unknown_document",
            f"no document {document_number} was issued; check the number",
            "未找到该文书编号，请核对。",
        )
    if not any(
        hmac.compare_digest(record.code_sha256, code_digest(code)) for record in records
    ):
        return _result(
            document_number,
            "code_mismatch",
            "the verification code does not match the document number",
            "验证码与文书编号不符，请核对。",
        )
    latest = max(record.version for record in records)
    match = next((record for record in records if record.sha256 == sha256), None)
    if match is None:
        return _result(
            document_number,
            "altered",
            "the file matches no issued version of this document; it was altered "
            "or is not this document",
            "文件与平台出具的任何版本均不一致，可能已被改动。",
            latest_version=latest,
        )
    if not signature_is_valid(public_key, match.sha256, match.signature):
        return _result(
            document_number,
            "signature_invalid",
            "the stored signature does not verify with the platform's public key",
            "平台签名校验未通过。",
            latest_version=latest,
        )
    superseded = match.version < latest
    return VerificationResult(
        genuine=True,
        document_number=document_number,
        reason="genuine",
        message=(
            f"genuine and unaltered: version {match.version} of {latest}"
            + ("; a later version exists" if superseded else "")
        ),
        message_zh=(
            f"文件真实、未被改动（第 {match.version} 版，共 {latest} 版）"
            + ("；已有更新版本。" if superseded else "。")
        ),
        version=match.version,
        latest_version=latest,
        issued_at=match.issued_at,
        kind=match.kind,
        sha256=match.sha256,
        signature=match.signature,
        key_id=match.key_id,
    )


def _result(
    document_number: str,
    reason: str,
    message: str,
    message_zh: str,
    latest_version: int | None = None,
) -> VerificationResult:
    return VerificationResult(
        genuine=False,
        document_number=document_number,
        reason=reason,
        message=message,
        message_zh=message_zh,
        latest_version=latest_version,
    )
