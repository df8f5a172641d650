"""Body digests: `Digest` (RFC 3230, draft-cavage) and `Content-Digest` (RFC 9530).

We send SHA-256 only. On receipt we accept SHA-256 and SHA-512, and every supported value the
sender listed must match the body: a header carrying one good and one bad digest is rejected,
so a sender cannot smuggle a body past us behind an algorithm we skip. A header with no
supported algorithm at all is a rejection, never a skip.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from federation.protocol.signatures.structured import (
    InnerList,
    StructuredFieldError,
    parse_dictionary,
)

# Lowercased algorithm names (the same in both headers) mapped to hashlib constructors.
_ALGORITHMS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}


class DigestError(Exception):
    """The digest header is missing, malformed, or does not match the body."""


def digest_header(body: bytes) -> str:
    """The `Digest` value for `body`: `SHA-256=<base64>`."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes) -> str:
    """The `Content-Digest` value for `body`: `sha-256=:<base64>:`."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def check_digest(value: str, body: bytes) -> None:
    """Check a `Digest` header value (`SHA-256=..., SHA-512=...`) against `body`."""
    checked = 0
    for part in value.split(","):
        name, sep, encoded = part.strip().partition("=")
        if not sep:
            raise DigestError("malformed Digest header")
        algorithm = _ALGORITHMS.get(name.lower())
        if algorithm is None:
            continue
        try:
            claimed = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise DigestError(f"malformed Digest header: {name} value is not base64") from None
        if not hmac.compare_digest(claimed, algorithm(body).digest()):
            raise DigestError("digest does not match the body")
        checked += 1
    if not checked:
        raise DigestError("Digest header has no SHA-256 or SHA-512 value")


def check_content_digest(value: str, body: bytes) -> None:
    """Check a `Content-Digest` header value (`sha-256=:...:`) against `body`."""
    try:
        members = parse_dictionary(value)
    except StructuredFieldError as exc:
        raise DigestError(f"malformed Content-Digest header: {exc}") from None
    checked = 0
    for name, member in members.items():
        algorithm = _ALGORITHMS.get(name)
        if algorithm is None:
            continue
        if isinstance(member, InnerList) or not isinstance(member.value, bytes):
            raise DigestError(f"malformed Content-Digest header: {name} is not a byte sequence")
        if not hmac.compare_digest(member.value, algorithm(body).digest()):
            raise DigestError("content-digest does not match the body")
        checked += 1
    if not checked:
        raise DigestError("Content-Digest header has no sha-256 or sha-512 value")
