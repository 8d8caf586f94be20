"""The evidence bucket's CORS rule, which lets the phone page PUT parts to storage.

The phone page is served by intake, so its PUTs to storage are cross-origin: the
bucket must allow the page's origin, the PUT method and its headers, and expose the
ETag header, which the page reads back for each part. The minio client has no CORS
call, so the S3 ``PutBucketCors`` request goes through its private request method.
"""

import base64
import hashlib
from xml.etree import ElementTree

from minio import Minio
from minio.error import S3Error

MAX_AGE_SECONDS = 600
# Kept on the bucket at most; the earliest added go first. Each test session's
# intake adds its own origin, so the list would otherwise grow without end.
MAX_ORIGINS = 50


def cors_xml(origins: list[str]) -> bytes:
    root = ElementTree.Element("CORSConfiguration")
    rule = ElementTree.SubElement(root, "CORSRule")
    for origin in dict.fromkeys(origins):
        ElementTree.SubElement(rule, "AllowedOrigin").text = origin
    for method in ("GET", "HEAD", "PUT"):
        ElementTree.SubElement(rule, "AllowedMethod").text = method
    ElementTree.SubElement(rule, "AllowedHeader").text = "*"
    ElementTree.SubElement(rule, "ExposeHeader").text = "ETag"
    ElementTree.SubElement(rule, "MaxAgeSeconds").text = str(MAX_AGE_SECONDS)
    return ElementTree.tostring(root)


def allowed_origins(client: Minio, bucket: str) -> list[str]:
    """Return the origins the bucket's CORS rules allow; none when it has no rules."""
    try:
        response = client._execute("GET", bucket, query_params={"cors": ""})
    except S3Error as error:
        if error.code in ("NoSuchCORSConfiguration", "NoSuchCorsConfiguration"):
            return []
        raise
    root = ElementTree.fromstring(response.data)
    return [
        element.text or ""
        for element in root.iter()
        if element.tag.rsplit("}", 1)[-1] == "AllowedOrigin"
    ]


def set_allowed_origins(client: Minio, bucket: str, origins: list[str]) -> None:
    """Replace the bucket's CORS configuration with one rule for ``origins``."""
    body = cors_xml(origins)
    client._execute(
        "PUT",
        bucket,
        body=body,
        query_params={"cors": ""},
        headers={
            "Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode(),
            "Content-Type": "application/xml",
        },
    )


def allow_origin(client: Minio, bucket: str, origin: str) -> bool:
    """Add ``origin`` to the bucket's CORS rule; return whether it was missing."""
    origins = allowed_origins(client, bucket)
    if origin in origins:
        return False
    set_allowed_origins(client, bucket, [*origins, origin][-MAX_ORIGINS:])
    return True
