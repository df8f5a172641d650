"""Body digests: Digest (SHA-256 sent; SHA-256/512 accepted) and Content-Digest (RFC 9530)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from federation.protocol.signatures.digest import (
    DigestError,
    check_content_digest,
    check_digest,
    content_digest_header,
    digest_header,
)

# RFC 9530 section 2 and RFC 9421 Appendix B use this body and these digests.
BODY = b'{"hello": "world"}'
SHA256_B64 = "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
SHA512_B64 = (
    "WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew=="
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_digest_header_is_sha256_of_the_body():
    # Given the RFC 9530 example body
    # When we compute the Digest header
    value = digest_header(BODY)
    # Then it is the published SHA-256 value
    assert value == "SHA-256=" + SHA256_B64


def test_content_digest_header_is_a_structured_sha256_byte_sequence():
    # Given the RFC 9530 example body
    # When we compute the Content-Digest header
    value = content_digest_header(BODY)
    # Then it is the RFC's sha-256 member
    assert value == f"sha-256=:{SHA256_B64}:"


def test_digest_of_an_empty_body_is_the_well_known_value():
    # Given an empty body (a POST with nothing in it)
    # When we compute the Digest header
    # Then it is SHA-256 of nothing
    assert digest_header(b"") == "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


@pytest.mark.parametrize(
    "value",
    [
        "SHA-256=" + SHA256_B64,
        "sha-256=" + SHA256_B64,
        "SHA-512=" + SHA512_B64,
        f"SHA-256={SHA256_B64}, SHA-512={SHA512_B64}",
        f"MD5=whatever, SHA-256={SHA256_B64}",
    ],
)
def test_matching_digest_is_accepted(value):
    # Given a Digest value that matches the body in a supported algorithm
    # When it is checked
    # Then nothing is raised
    check_digest(value, BODY)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("SHA-256=" + _b64(hashlib.sha256(b"other").digest()), "digest does not match the body"),
        (f"SHA-256={SHA256_B64}, SHA-512={_b64(b'x' * 64)}", "digest does not match the body"),
        (
            "MD5=" + _b64(hashlib.md5(BODY).digest()),
            "Digest header has no SHA-256 or SHA-512 value",
        ),
        ("SHA-256", "malformed Digest header"),
        ("SHA-256=not base64!", "malformed Digest header: SHA-256 value is not base64"),
    ],
)
def test_bad_digest_is_refused_with_a_reason(value, reason):
    # Given a Digest value that is wrong, unsupported or malformed
    # When it is checked against the body
    with pytest.raises(DigestError) as caught:
        check_digest(value, BODY)
    # Then the reason names the problem
    assert str(caught.value) == reason


@pytest.mark.parametrize(
    "value",
    [
        f"sha-256=:{SHA256_B64}:",
        f"sha-512=:{SHA512_B64}:",
        f"sha-512=:{SHA512_B64}:, sha-256=:{SHA256_B64}:",
        f"md5=:AAAA:, sha-256=:{SHA256_B64}:",
    ],
)
def test_matching_content_digest_is_accepted(value):
    # Given a Content-Digest that matches the body (RFC 9421 B.2 sends sha-512)
    # When it is checked
    # Then nothing is raised
    check_content_digest(value, BODY)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (f"sha-256=:{_b64(hashlib.sha256(b'x').digest())}:", "content-digest does not match"),
        (f"sha-256=:{SHA256_B64}:, sha-512=:{_b64(b'x' * 64)}:", "content-digest does not match"),
        ("md5=:AAAA:", "Content-Digest header has no sha-256 or sha-512 value"),
        ("sha-256=" + SHA256_B64, "malformed Content-Digest header"),
        ("SHA-256=:AAAA:", "malformed Content-Digest header"),
        ("sha-256=(:AAAA:)", "malformed Content-Digest header: sha-256 is not a byte sequence"),
    ],
)
def test_bad_content_digest_is_refused_with_a_reason(value, reason):
    # Given a Content-Digest that is wrong, unsupported or malformed
    # When it is checked against the body
    with pytest.raises(DigestError) as caught:
        check_content_digest(value, BODY)
    # Then the reason names the problem
    assert str(caught.value).startswith(reason)
