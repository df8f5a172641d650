"""RFC 9421 HTTP Message Signatures: the RFC's Appendix B vectors, round trips, refusals,
and the structured-field parsing they rest on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding
from multidict import CIMultiDict, CIMultiDictProxy

from federation.protocol.keys import (
    KeyPair,
    generate_rsa_keypair,
    load_private_key,
    load_public_key,
)
from federation.protocol.signatures import (
    SignatureError,
    SignatureInfo,
    SignedRequest,
    rfc9421,
    sign_request,
    signature_info,
    verify_request,
)
from federation.protocol.signatures.rfc9421 import Rfc9421Error
from federation.protocol.signatures.structured import (
    InnerList,
    Item,
    StructuredFieldError,
    Token,
    parse_dictionary,
    serialize_dictionary,
)

FIXTURES = Path(__file__).parent / "fixtures" / "rfc9421"
VECTORS = json.loads((FIXTURES / "appendix_b2.json").read_text())
NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
STAMP = int(NOW.timestamp())
SKEW = timedelta(hours=1)
AUTHORITY = "rounds.example"
INBOX = "https://rounds.example/users/alice/inbox?page=2&sort=new"
KEY_ID = "https://peer.example/users/bob#main-key"
BODY = b'{"type": "Create", "actor": "https://peer.example/users/bob"}'
JSON = {"Content-Type": "application/activity+json"}


def _public(name: str):
    return serialization.load_pem_public_key((FIXTURES / f"{name}.pub.pem").read_bytes())


def _vector_headers(label: str) -> dict[str, str]:
    vector = VECTORS["signatures"][label]
    headers = {k.lower(): v for k, v in VECTORS["request"]["headers"].items()}
    headers["signature-input"] = vector["signature_input"]
    headers["signature"] = vector["signature"]
    return headers


@pytest.fixture(scope="module")
def rsa_pair() -> KeyPair:
    return generate_rsa_keypair()


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def _signed(private_key, *, method="POST", url=INBOX, body=BODY, now=NOW) -> SignedRequest:
    added = sign_request(
        method, url, JSON, body, key_id=KEY_ID, private_key=private_key, now=now, scheme="rfc9421"
    )
    return SignedRequest(method, url, {**JSON, **added}, body or b"")


def _hand_signed(
    private_key, covered, params, *, method="POST", url=INBOX, body=BODY, headers=None
) -> SignedRequest:
    """A request signed over exactly `covered` with exactly `params`, bypassing sign_request."""
    base_headers = {
        "Host": AUTHORITY,
        "Date": "Fri, 01 May 2026 12:00:00 GMT",
        "Content-Digest": "sha-256=:AAAA:",
        **(headers or {}),
    }
    if body:
        added = sign_request(
            method, url, {}, body, key_id=KEY_ID, private_key=private_key, now=NOW, scheme="rfc9421"
        )
        base_headers["Content-Digest"] = added["Content-Digest"]
    components = InnerList(tuple(Item(name, {}) for name in covered), params)
    lowered = {k.lower(): v for k, v in base_headers.items()}
    base = rfc9421.signature_base(components, method=method, url=url, headers=lowered)
    raw = private_key.sign(base, padding.PKCS1v15(), hashes.SHA256())
    base_headers["Signature-Input"] = serialize_dictionary({"sig1": components})
    base_headers["Signature"] = serialize_dictionary({"sig1": Item(raw, {})})
    return SignedRequest(method, url, base_headers, body)


def _verify(request, public_key, *, now=NOW, authority=AUTHORITY) -> SignatureInfo:
    return verify_request(request, public_key, now=now, max_skew=SKEW, authority=authority)


def _reason(request, public_key, *, now=NOW, authority=AUTHORITY) -> str:
    with pytest.raises(SignatureError) as caught:
        _verify(request, public_key, now=now, authority=authority)
    assert "\n" not in str(caught.value)
    return str(caught.value)


# -- RFC 9421 Appendix B ---------------------------------------------------------------------


REQUEST = VECTORS["request"]


def _vector_base(headers: dict[str, str]) -> bytes:
    components = rfc9421.select(headers).components
    return rfc9421.signature_base(
        components, method=REQUEST["method"], url=REQUEST["url"], headers=headers
    )


def _verify_vector(headers: dict[str, str], key: str, alg: str) -> None:
    rfc9421.verify_components(
        rfc9421.select(headers),
        _public(key),
        method=REQUEST["method"],
        url=REQUEST["url"],
        headers=headers,
        alg=alg,
    )


@pytest.mark.parametrize("label", ["B.2.1", "B.2.2", "B.2.3", "B.2.6"])
def test_signature_base_matches_the_rfc(label):
    # Given the RFC's test-request and one of its Signature-Input examples
    headers = _vector_headers(label)
    # When we build the signature base
    base = _vector_base(headers)
    # Then it is the RFC's, byte for byte
    assert base.decode() == VECTORS["signatures"][label]["signature_base"]


@pytest.mark.parametrize("label", ["B.2.1", "B.2.2", "B.2.3", "B.2.6"])
def test_rfc_signatures_verify(label):
    # Given one of the RFC's signed requests and its test key (rsa-pss-sha512 or ed25519)
    vector = VECTORS["signatures"][label]
    # When we verify it with the algorithm the verifier knows for that key
    _verify_vector(_vector_headers(label), vector["key"], vector["alg"])
    # Then no error is raised (the next test shows the same call can fail)


@pytest.mark.parametrize("label", ["B.2.3", "B.2.6"])
def test_rfc_signatures_fail_when_a_covered_header_changes(label):
    # Given an RFC signed request whose covered Date was changed
    vector = VECTORS["signatures"][label]
    headers = {**_vector_headers(label), "date": "Tue, 20 Apr 2021 02:07:56 GMT"}
    # When we verify it, Then it does not verify
    with pytest.raises(Rfc9421Error, match="signature does not verify"):
        _verify_vector(headers, vector["key"], vector["alg"])


def test_ed25519_signature_reproduces_the_rfc_value():
    # Given the RFC's Ed25519 test key and the B.2.6 signature base we build
    pem = (FIXTURES / "test-key-ed25519.key.pem").read_bytes()
    private = serialization.load_pem_private_key(pem, password=None)
    base = _vector_base(_vector_headers("B.2.6"))
    # When we sign it (Ed25519 is deterministic)
    signature = serialize_dictionary({"sig-b26": Item(private.sign(base), {})})
    # Then we produce the RFC's exact Signature value
    assert signature == VECTORS["signatures"]["B.2.6"]["signature"]


def test_key_type_contradicting_the_known_alg_is_refused():
    # Given the Ed25519 vector, When the verifier insists the key is RSA-PSS, Then it is refused
    reason = "alg rsa-pss-sha512 does not match the signer's Ed25519 key"
    with pytest.raises(Rfc9421Error, match=reason):
        _verify_vector(_vector_headers("B.2.6"), "test-key-ed25519", "rsa-pss-sha512")


def test_select_picks_the_label_with_the_wanted_keyid():
    # Given two signatures in one message
    headers = _vector_headers("B.2.6")
    b23 = _vector_headers("B.2.3")
    headers["signature-input"] += ", " + b23["signature-input"]
    headers["signature"] += ", " + b23["signature"]
    # When we select by keyid, or without one
    # Then we get the wanted one, or the first
    assert rfc9421.select(headers, key_id="test-key-rsa-pss").label == "sig-b23"
    assert rfc9421.select(headers).label == "sig-b26"
    with pytest.raises(Rfc9421Error, match="no signature with keyid nobody"):
        rfc9421.select(headers, key_id="nobody")


# -- round trips -----------------------------------------------------------------------------


def test_round_trip_rsa_with_query_string(rsa_pair):
    # Given a POST we signed with RFC 9421 and an RSA key
    request = _signed(load_private_key(rsa_pair.private_pem))
    # When we ask who signed it and verify it
    # Then both name the key and the scheme; the shape is what Fedify-style peers expect
    assert signature_info(request) == SignatureInfo(KEY_ID, "rfc9421")
    assert _verify(request, load_public_key(rsa_pair.public_pem)) == SignatureInfo(
        KEY_ID, "rfc9421"
    )
    assert request.headers["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "@authority" "date" "content-digest")'
        f';created={STAMP};keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'
    )
    assert request.headers["Content-Digest"].startswith("sha-256=:")


def test_round_trip_ed25519_with_query_string(ed_key):
    request = _signed(ed_key)
    assert _verify(request, ed_key.public_key()) == SignatureInfo(KEY_ID, "rfc9421")
    assert 'alg="ed25519"' in request.headers["Signature-Input"]


def test_round_trip_get_has_no_content_digest(rsa_pair):
    request = _signed(load_private_key(rsa_pair.private_pem), method="GET", body=None)
    assert "Content-Digest" not in request.headers
    assert _verify(request, load_public_key(rsa_pair.public_pem)).scheme == "rfc9421"


def test_rfc9421_is_preferred_when_a_request_carries_both_schemes(rsa_pair):
    # Given a request signed with both schemes: two Signature lines, as aiohttp delivers them
    private = load_private_key(rsa_pair.private_pem)
    modern = _signed(private)
    legacy = sign_request(
        "POST",
        INBOX,
        JSON,
        BODY,
        key_id="https://peer.example/legacy-key",
        private_key=private,
        now=NOW,
    )
    headers = CIMultiDict(legacy)
    headers.extend({k: v for k, v in modern.headers.items() if k not in ("Host", "Date")})
    both = SignedRequest("POST", INBOX, CIMultiDictProxy(headers), BODY)
    assert len(both.headers.getall("Signature")) == 2
    # When we ask who signed it and verify it
    # Then the RFC 9421 signature is the one considered, and it verifies
    assert signature_info(both) == SignatureInfo(KEY_ID, "rfc9421")
    assert _verify(both, load_public_key(rsa_pair.public_pem)) == SignatureInfo(KEY_ID, "rfc9421")


# -- refusals --------------------------------------------------------------------------------


def test_wrong_key_is_refused(rsa_pair, ed_key):
    request = _signed(load_private_key(rsa_pair.private_pem))
    other = load_public_key(generate_rsa_keypair().public_pem)
    assert _reason(request, other) == "signature does not verify"
    assert _reason(request, ed_key.public_key()) == (
        "alg rsa-v1_5-sha256 does not match the signer's Ed25519 key"
    )


def test_body_changed_after_signing_is_refused(rsa_pair):
    request = _signed(load_private_key(rsa_pair.private_pem))
    tampered = SignedRequest("POST", INBOX, request.headers, BODY + b" ")
    reason = _reason(tampered, load_public_key(rsa_pair.public_pem))
    assert reason == "content-digest does not match the body"


def test_wrong_authority_is_refused(rsa_pair):
    request = _signed(
        load_private_key(rsa_pair.private_pem), url="https://other.example:8443/users/alice/inbox"
    )
    reason = _reason(request, load_public_key(rsa_pair.public_pem))
    assert (
        reason
        == "signed @authority other.example:8443 does not match this instance (rounds.example)"
    )


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        (NOW + timedelta(hours=3), "Date is 3 h in the past, outside the 1 h window"),
        (NOW - timedelta(minutes=90), "Date is 1.5 h in the future, outside the 1 h window"),
    ],
)
def test_date_outside_the_window_is_refused(rsa_pair, now, reason):
    request = _signed(load_private_key(rsa_pair.private_pem))
    assert _reason(request, load_public_key(rsa_pair.public_pem), now=now) == reason


RSA_PARAMS = {"created": STAMP, "keyid": KEY_ID, "alg": "rsa-v1_5-sha256"}
FULL = ["@method", "@target-uri", "@authority", "content-digest"]
MUST = "signed components must include "
HMAC = "unsupported signature algorithm hmac-sha256 (accepted: rsa-v1_5-sha256, rsa-pss-sha512, "


@pytest.mark.parametrize(
    ("covered", "params", "reason"),
    [
        (FULL, RSA_PARAMS, None),
        (["@method", "@path", "@query", "@authority", "content-digest"], RSA_PARAMS, None),
        (["@method", "@request-target", "host", "content-digest"], RSA_PARAMS, None),
        (FULL[:3], RSA_PARAMS, MUST + "content-digest"),
        (FULL[1:], RSA_PARAMS, MUST + "@method"),
        (["@method", "@authority", "content-digest"], RSA_PARAMS, MUST + "@target-uri (or @path"),
        (["@method", "@path", "@authority", "content-digest"], RSA_PARAMS, MUST + "@query when"),
        (["@method", "@target-uri", "content-digest"], RSA_PARAMS, MUST + "@authority"),
        (FULL, {"keyid": KEY_ID}, "signature has no created parameter and does not cover date"),
        (FULL + ["date"], {"keyid": KEY_ID}, None),
        (FULL, {**RSA_PARAMS, "created": STAMP - 7200}, "signature created 2 h in the past, "),
        (FULL, {**RSA_PARAMS, "expires": STAMP - 30}, "signature expired 30 s ago"),
        (FULL, {**RSA_PARAMS, "alg": "hmac-sha256"}, HMAC + "ed25519)"),
        (FULL, {"created": STAMP}, "malformed Signature-Input header: sig1 has no keyid"),
    ],
)
def test_coverage_time_and_algorithm_rules(rsa_pair, covered, params, reason):
    # Given a POST validly signed over `covered` with `params`
    request = _hand_signed(load_private_key(rsa_pair.private_pem), covered, params)
    public = load_public_key(rsa_pair.public_pem)
    # When we verify it, Then it is accepted, or refused for the stated reason
    if reason is None:
        assert _verify(request, public).key_id == KEY_ID
    else:
        assert _reason(request, public).startswith(reason)


def test_signed_host_header_must_be_this_instance(rsa_pair):
    request = _hand_signed(
        load_private_key(rsa_pair.private_pem),
        ["@method", "@request-target", "host", "content-digest"],
        RSA_PARAMS,
        headers={"Host": "evil.example"},
    )
    reason = _reason(request, load_public_key(rsa_pair.public_pem))
    assert reason == "signed host evil.example does not match this instance (rounds.example)"


SI, SIG, ONE = "malformed Signature-Input header: ", "malformed Signature header: ", "sig1=:AAAA:"
GOOD_INPUT = 'sig1=("@method");keyid="k"'


@pytest.mark.parametrize(
    ("signature_input", "signature", "reason"),
    [
        ("sig1=(@method)", ONE, SI + "unexpected character"),
        (GOOD_INPUT + ",", ONE, SI + "trailing comma"),
        ('sig1="@method";keyid="k"', ONE, SI + "sig1 is not an inner list"),
        ("", ONE, SI + "no signatures"),
        (GOOD_INPUT, "sig2=:AAAA:", SIG + "no byte sequence for sig1"),
        (GOOD_INPUT, "sig1=AAAA", SIG + "no byte sequence for sig1"),
        (GOOD_INPUT, "sig1=:A!:", SIG + "invalid byte sequence"),
    ],
)
def test_malformed_headers_are_refused(rsa_pair, signature_input, signature, reason):
    request = _signed(load_private_key(rsa_pair.private_pem))
    headers = {**request.headers, "Signature-Input": signature_input, "Signature": signature}
    broken = SignedRequest("POST", INBOX, headers, BODY)
    assert _reason(broken, load_public_key(rsa_pair.public_pem)).startswith(reason)
    with pytest.raises(SignatureError):
        signature_info(broken)


def test_signature_input_without_signature_is_refused(rsa_pair):
    request = _signed(load_private_key(rsa_pair.private_pem))
    headers = {k: v for k, v in request.headers.items() if k != "Signature"}
    reason = _reason(
        SignedRequest("POST", INBOX, headers, BODY), load_public_key(rsa_pair.public_pem)
    )
    assert reason == "Signature-Input without a Signature header"


# -- structured fields -----------------------------------------------------------------------


def test_signature_input_round_trips_through_the_parser():
    # Given a Signature-Input using strings, tokens, integers, booleans and parameters
    text = (
        'sig1=("@method" "@query-param";name="Pet" "x";bs);created=1618884473'
        ';keyid="a \\"quoted\\" \\\\ id";tag=tok/en;flag, sig2=:AAEC:;p=?0, bare;q=-5'
    )
    # When it is parsed and serialised again
    parsed = parse_dictionary(text)
    # Then the values are typed and the text comes back unchanged
    assert parsed["sig1"].params["keyid"] == 'a "quoted" \\ id'
    assert isinstance(parsed["sig1"].params["tag"], Token)
    assert parsed["sig1"].params["flag"] is True
    assert parsed["sig2"] == Item(b"\x00\x01\x02", {"p": False})
    assert parsed["bare"] == Item(True, {"q": -5})
    assert serialize_dictionary(parsed) == text


@pytest.mark.parametrize(
    "text",
    ["Sig=1", "a=1.5", "a=1,", "a=(1", "a=1 b=2", 'a="\u00e9"', "a=1234567890123456", "a=?2"],
)
def test_invalid_structured_fields_are_refused(text):
    with pytest.raises(StructuredFieldError):
        parse_dictionary(text)
