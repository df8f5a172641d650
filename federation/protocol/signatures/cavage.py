"""draft-cavage-http-signatures-12, as the fediverse deploys it: parse, sign, verify.

The decision to know: the key type, not the `algorithm` parameter, picks the primitive. An RSA
key verifies with PKCS#1 v1.5 SHA-256 and an Ed25519 key with Ed25519, whether `algorithm` says
`rsa-sha256`, `hs2019` or nothing. Any other algorithm, or `rsa-sha256` with an Ed25519 key, is
refused by name. This module knows the wire format, the signing string and the crypto; the
shared policy (time windows, host, digest) is applied by `federation.protocol.signatures.verify_request`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

# One `name="value"` or `name=123` pair and the comma after it, from a given offset.
_PARAM = re.compile(
    r'[ \t]*([A-Za-z][A-Za-z0-9_-]*)[ \t]*=[ \t]*(?:"([^"]*)"|([0-9]+))[ \t]*(?:,|\Z)'
)
_ACCEPTED = "rsa-sha256, hs2019"
_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


class CavageError(Exception):
    """The Signature header is malformed, unsupported, or does not verify."""


@dataclass(frozen=True, slots=True)
class CavageSignature:
    key_id: str
    algorithm: str | None  # lowercased; None when the sender left it out
    headers: tuple[str, ...]  # covered header names, lowercased, in signing order
    signature: bytes
    created: int | None
    expires: int | None


def parse_signature_header(value: str) -> CavageSignature:
    """Parse a `Signature` header value. Raises CavageError("malformed Signature header: ...")."""
    params: dict[str, str] = {}
    pos, end = 0, len(value)
    while pos < end:
        match = _PARAM.match(value, pos)
        if match is None or match.end() == pos:
            raise CavageError(f"malformed Signature header: cannot parse at offset {pos}")
        name = match.group(1).lower()
        if name in params:
            raise CavageError(f"malformed Signature header: {match.group(1)} appears twice")
        text = match.group(2)
        params[name] = match.group(3) if text is None else text
        pos = match.end()
    key_id = params.get("keyid")
    encoded = params.get("signature")
    if not key_id:
        raise CavageError("malformed Signature header: no keyId")
    if not encoded:
        raise CavageError("malformed Signature header: no signature")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise CavageError("malformed Signature header: signature is not base64") from None
    algorithm = params.get("algorithm")
    return CavageSignature(
        key_id=key_id,
        algorithm=algorithm.lower() if algorithm else None,
        headers=tuple(params.get("headers", "(created)").lower().split()),
        signature=signature,
        created=_integer(params, "created"),
        expires=_integer(params, "expires"),
    )


def _integer(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit():
        raise CavageError(f"malformed Signature header: {name} is not an integer timestamp")
    return int(value)


def check_algorithm(algorithm: str | None, public_key: object) -> None:
    """Refuse algorithms we do not accept, and algorithms that contradict the key type."""
    if isinstance(public_key, rsa.RSAPublicKey):
        if algorithm is None or algorithm == "rsa-sha256" or algorithm == "hs2019":
            return
    elif isinstance(public_key, ed25519.Ed25519PublicKey):
        if algorithm is None or algorithm == "hs2019":
            return
        if algorithm == "rsa-sha256":
            raise CavageError("algorithm rsa-sha256 does not match the signer's Ed25519 key")
    else:
        raise CavageError(f"unsupported key type {type(public_key).__name__}")
    raise CavageError(f"unsupported signature algorithm {algorithm} (accepted: {_ACCEPTED})")


def check_coverage(signature: CavageSignature, *, has_body: bool) -> None:
    """The headers every signature must cover: what it is, where it goes, when, and the body."""
    covered = signature.headers
    if "(request-target)" not in covered:
        raise CavageError("signed headers must include (request-target)")
    if "host" not in covered:
        raise CavageError("signed headers must include host")
    if "date" not in covered and "(created)" not in covered:
        raise CavageError("signed headers must include date or (created)")
    if has_body and "digest" not in covered and "content-digest" not in covered:
        raise CavageError("signed headers must include digest")


def signing_string(
    covered: Sequence[str],
    *,
    method: str,
    target: str,
    headers: Mapping[str, str],
    created: int | None = None,
    expires: int | None = None,
) -> bytes:
    """The bytes that are signed. `headers` has lowercase names; `target` is path?query."""
    lines = []
    for name in covered:
        if name == "(request-target)":
            value = method.lower() + " " + target
        elif name == "(created)" or name == "(expires)":
            stamp = created if name == "(created)" else expires
            if stamp is None:
                raise CavageError(f"{name} is signed but the {name[1:-1]} parameter is missing")
            value = str(stamp)
        else:
            found = headers.get(name)
            if found is None:
                raise CavageError(f"signed header {name} is missing from the request")
            value = found
        lines.append(name + ": " + value)
    # Header text arrives from aiohttp decoded with surrogateescape; this restores the wire bytes.
    return "\n".join(lines).encode("utf-8", "surrogateescape")


def verify_signature(signature: bytes, public_key: object, data: bytes) -> None:
    """Check the signature over `data`; call check_algorithm first."""
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, _PKCS1, _SHA256)
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        else:
            raise CavageError(f"unsupported key type {type(public_key).__name__}")
    except InvalidSignature:
        raise CavageError("signature does not verify") from None


def sign(
    covered: Sequence[str],
    *,
    method: str,
    target: str,
    headers: Mapping[str, str],
    key_id: str,
    private_key: object,
) -> str:
    """The `Signature` header value over `covered` (lowercase names present in `headers`)."""
    if '"' in key_id:
        raise ValueError("keyId must not contain a double quote")
    data = signing_string(covered, method=method, target=target, headers=headers)
    if isinstance(private_key, rsa.RSAPrivateKey):
        algorithm, raw = "rsa-sha256", private_key.sign(data, _PKCS1, _SHA256)
    elif isinstance(private_key, ed25519.Ed25519PrivateKey):
        algorithm, raw = "hs2019", private_key.sign(data)
    else:
        raise TypeError(f"cannot sign with a {type(private_key).__name__}")
    return (
        f'keyId="{key_id}",algorithm="{algorithm}",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(raw).decode("ascii")}"'
    )
