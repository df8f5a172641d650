"""draft-cavage HTTP signatures: interop with httpsig 1.3.0, round trips, and every refusal."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import httpsig
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
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
    sign_request,
    signature_info,
    verify_request,
)
from federation.protocol.signatures.digest import digest_header

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
SKEW = timedelta(hours=1)
AUTHORITY = "rounds.example"
INBOX = "https://rounds.example/users/alice/inbox?page=2&sort=new"
TARGET = "/users/alice/inbox?page=2&sort=new"
KEY_ID = "https://peer.example/users/bob#main-key"
BODY = b'{"type": "Create", "actor": "https://peer.example/users/bob"}'
JSON = {"Content-Type": "application/activity+json"}
FEDIVERSE = ["(request-target)", "host", "date", "digest"]


@pytest.fixture(scope="module")
def rsa_pair() -> KeyPair:
    return generate_rsa_keypair()


@pytest.fixture(scope="module")
def other_rsa_pair() -> KeyPair:
    return generate_rsa_keypair()


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def _signed_post(private_key, *, url=INBOX, body=BODY, now=NOW) -> SignedRequest:
    added = sign_request("POST", url, JSON, body, key_id=KEY_ID, private_key=private_key, now=now)
    return SignedRequest("POST", url, {**JSON, **added}, body)


def _verify(request, public_key, *, now=NOW, authority=AUTHORITY) -> SignatureInfo:
    return verify_request(request, public_key, now=now, max_skew=SKEW, authority=authority)


def _reason(request, public_key, *, now=NOW, authority=AUTHORITY) -> str:
    with pytest.raises(SignatureError) as caught:
        _verify(request, public_key, now=now, authority=authority)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def _replace(request: SignedRequest, **headers: str | None) -> SignedRequest:
    replaced = {name.lower() for name in headers}
    changed = {k: v for k, v in request.headers.items() if k.lower() not in replaced}
    changed.update({k: v for k, v in headers.items() if v is not None})
    return SignedRequest(request.method, request.url, changed, request.body)


def _httpsig_post(pair: KeyPair, covered: list[str], *, algorithm="rsa-sha256", secret=None):
    """A POST signed by httpsig (the independent reference) over `covered`."""
    headers = {
        "Host": AUTHORITY,
        "Date": "Fri, 01 May 2026 12:00:00 GMT",
        "Digest": digest_header(BODY),
        **JSON,
    }
    signer = httpsig.HeaderSigner(
        KEY_ID, secret or pair.private_pem, algorithm, covered, sign_header="signature"
    )
    signed = signer.sign(headers, method="POST", path=TARGET)
    return SignedRequest("POST", INBOX, {**headers, "Signature": signed["signature"]}, BODY)


def _hand_signed(
    private_key, covered, *, algorithm="hs2019", created=None, expires=None, extra_headers=None
) -> SignedRequest:
    """A POST signed by building the cavage-12 signing string by hand, outside our code."""
    headers = {"Host": AUTHORITY, "Digest": digest_header(BODY), **(extra_headers or {})}
    values = {
        "(request-target)": "post " + TARGET,
        "(created)": str(created),
        "(expires)": str(expires),
        "host": AUTHORITY,
        "digest": headers["Digest"],
        "date": headers.get("Date"),
    }
    data = "\n".join(f"{name}: {values[name]}" for name in covered).encode()
    if isinstance(private_key, rsa.RSAPrivateKey):
        raw = private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        raw = private_key.sign(data)
    params = [f'keyId="{KEY_ID}"']
    if algorithm:
        params.append(f'algorithm="{algorithm}"')
    if created is not None:
        params.append(f"created={created}")
    if expires is not None:
        params.append(f"expires={expires}")
    params.append(f'headers="{" ".join(covered)}"')
    params.append(f'signature="{base64.b64encode(raw).decode()}"')
    return SignedRequest("POST", INBOX, {**headers, "Signature": ",".join(params)}, BODY)


# -- interop with httpsig 1.3.0 --------------------------------------------------------------


def test_our_post_signature_verifies_under_httpsig(rsa_pair):
    # Given a POST we signed with an RSA key
    request = _signed_post(load_private_key(rsa_pair.private_pem))
    # When httpsig verifies it, requiring the headers the fediverse requires
    verifier = httpsig.HeaderVerifier(
        dict(request.headers),
        rsa_pair.public_pem,
        required_headers=["(request-target)", "host", "date", "digest", "content-type"],
        method="POST",
        path=TARGET,
        sign_header="signature",
    )
    # Then it verifies, and it says rsa-sha256 as Mastodon expects
    assert verifier.verify() is True
    assert 'algorithm="rsa-sha256"' in request.headers["Signature"]
    assert (
        'headers="(request-target) host date digest content-type"' in request.headers["Signature"]
    )


def test_our_get_signature_verifies_under_httpsig(rsa_pair):
    # Given a GET we signed (no body)
    added = sign_request(
        "GET",
        INBOX,
        {},
        None,
        key_id=KEY_ID,
        private_key=load_private_key(rsa_pair.private_pem),
        now=NOW,
    )
    # When httpsig verifies it
    verifier = httpsig.HeaderVerifier(
        added,
        rsa_pair.public_pem,
        required_headers=["(request-target)", "host", "date"],
        method="GET",
        path=TARGET,
        sign_header="signature",
    )
    # Then it verifies, and there is no Digest
    assert verifier.verify() is True
    assert set(added) == {"Host", "Date", "Signature"}
    assert 'headers="(request-target) host date"' in added["Signature"]


def test_httpsig_signature_verifies_under_ours(rsa_pair):
    # Given a POST signed by httpsig over the headers the fediverse signs
    request = _httpsig_post(rsa_pair, FEDIVERSE)
    # When we verify it
    info = _verify(request, load_public_key(rsa_pair.public_pem))
    # Then it is accepted as a cavage signature by that key
    assert info == SignatureInfo(KEY_ID, "cavage")


def test_httpsig_signature_with_a_tampered_path_is_refused(rsa_pair):
    # Given an httpsig-signed POST replayed to another inbox on this instance
    request = _httpsig_post(rsa_pair, FEDIVERSE)
    moved = SignedRequest("POST", "https://rounds.example/inbox", request.headers, BODY)
    # When we verify it, Then the signature does not verify
    assert _reason(moved, load_public_key(rsa_pair.public_pem)) == "signature does not verify"


# -- round trips -----------------------------------------------------------------------------


def test_round_trip_rsa_with_query_string_and_multidict_headers(rsa_pair):
    # Given a POST we signed, with headers as aiohttp hands them over
    request = _signed_post(load_private_key(rsa_pair.private_pem))
    proxy = CIMultiDictProxy(CIMultiDict(request.headers))
    # When we verify it
    info = _verify(SignedRequest("post", INBOX, proxy, BODY), load_public_key(rsa_pair.public_pem))
    # Then it is accepted
    assert info == SignatureInfo(KEY_ID, "cavage")


def test_round_trip_ed25519_uses_hs2019(ed_key):
    # Given a POST we signed with an Ed25519 key
    request = _signed_post(ed_key)
    # When we verify it
    info = _verify(request, ed_key.public_key())
    # Then it is accepted, and the algorithm we sent is hs2019
    assert info == SignatureInfo(KEY_ID, "cavage")
    assert 'algorithm="hs2019"' in request.headers["Signature"]


def test_signature_info_names_the_key_without_verifying(rsa_pair):
    # Given a signed POST and no key at hand
    request = _signed_post(load_private_key(rsa_pair.private_pem))
    # When we ask who signed it, Then we learn the keyId and scheme
    assert signature_info(request) == SignatureInfo(KEY_ID, "cavage")


# -- refusals --------------------------------------------------------------------------------


def test_wrong_key_is_refused(rsa_pair, other_rsa_pair):
    request = _signed_post(load_private_key(rsa_pair.private_pem))
    assert (
        _reason(request, load_public_key(other_rsa_pair.public_pem)) == "signature does not verify"
    )


def test_body_or_digest_changed_after_signing_is_refused(rsa_pair):
    # Given a signed POST
    request = _signed_post(load_private_key(rsa_pair.private_pem))
    public = load_public_key(rsa_pair.public_pem)
    # When its body, or its Digest header, is changed, Then the digest no longer matches
    tampered = SignedRequest("POST", INBOX, request.headers, BODY.replace(b"Create", b"Delete"))
    assert _reason(tampered, public) == "digest does not match the body"
    wrong_digest = _replace(request, digest=digest_header(b"something else"))
    assert _reason(wrong_digest, public) == "digest does not match the body"


def test_digest_header_swapped_to_match_a_new_body_is_refused(rsa_pair):
    # Given a signed POST whose body and Digest were both replaced after signing
    request = _signed_post(load_private_key(rsa_pair.private_pem))
    new_body = b'{"type": "Delete"}'
    tampered = SignedRequest(
        "POST", INBOX, _replace(request, Digest=digest_header(new_body)).headers, new_body
    )
    # When we verify, Then the digest matches but the signature over it does not
    assert _reason(tampered, load_public_key(rsa_pair.public_pem)) == "signature does not verify"


def test_signed_digest_header_removed_is_refused(rsa_pair):
    request = _replace(_signed_post(load_private_key(rsa_pair.private_pem)), digest=None)
    reason = _reason(request, load_public_key(rsa_pair.public_pem))
    assert reason == "signed header digest is missing from the request"


@pytest.mark.parametrize(
    ("covered", "reason"),
    [
        (["(request-target)", "host", "date"], "signed headers must include digest"),
        (["(request-target)", "host", "digest"], "signed headers must include date or (created)"),
        (["(request-target)", "date", "digest"], "signed headers must include host"),
        (["host", "date", "digest"], "signed headers must include (request-target)"),
    ],
)
def test_missing_coverage_is_refused(rsa_pair, covered, reason):
    # Given a POST validly signed by httpsig but over too few headers
    request = _httpsig_post(rsa_pair, covered)
    # When we verify it, Then the missing header is named
    assert _reason(request, load_public_key(rsa_pair.public_pem)) == reason


def test_post_without_any_digest_is_refused(rsa_pair):
    request = _replace(_httpsig_post(rsa_pair, ["(request-target)", "host", "date"]), digest=None)
    reason = _reason(request, load_public_key(rsa_pair.public_pem))
    assert reason == "signed headers must include digest"


def test_wrong_host_is_refused(rsa_pair):
    # Given a POST signed for another instance's inbox
    request = _signed_post(
        load_private_key(rsa_pair.private_pem), url="https://other.example/users/alice/inbox"
    )
    # When we verify it as rounds.example, Then the host is refused
    reason = _reason(request, load_public_key(rsa_pair.public_pem))
    assert reason == "signed host other.example does not match this instance (rounds.example)"


def test_host_comparison_ignores_case(rsa_pair):
    request = _signed_post(load_private_key(rsa_pair.private_pem))
    info = _verify(request, load_public_key(rsa_pair.public_pem), authority="Rounds.Example")
    assert info.key_id == KEY_ID


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        (NOW + timedelta(hours=2), "Date is 2 h in the past, outside the 1 h window"),
        (NOW - timedelta(hours=2), "Date is 2 h in the future, outside the 1 h window"),
    ],
)
def test_date_outside_the_window_is_refused(rsa_pair, now, reason):
    # Given a POST signed at NOW, When verified two hours away, Then the Date is refused
    request = _signed_post(load_private_key(rsa_pair.private_pem))
    assert _reason(request, load_public_key(rsa_pair.public_pem), now=now) == reason


def test_date_inside_the_window_is_accepted(rsa_pair):
    request = _signed_post(load_private_key(rsa_pair.private_pem))
    for now in (NOW + timedelta(minutes=59), NOW - timedelta(minutes=59)):
        assert _verify(request, load_public_key(rsa_pair.public_pem), now=now).key_id == KEY_ID


def test_malformed_date_is_refused(rsa_pair):
    request = _replace(_signed_post(load_private_key(rsa_pair.private_pem)), date="yesterday")
    reason = _reason(request, load_public_key(rsa_pair.public_pem))
    assert reason == "malformed Date header 'yesterday'"


@pytest.mark.parametrize(
    ("algorithm", "secret"),
    [("rsa-sha1", None), ("rsa-sha512", None), ("hmac-sha256", "a shared secret")],
)
def test_other_algorithms_are_refused_by_name(rsa_pair, algorithm, secret):
    # Given a POST validly signed by httpsig with an algorithm we do not accept
    request = _httpsig_post(rsa_pair, FEDIVERSE, algorithm=algorithm, secret=secret)
    # When we verify it, Then the algorithm is named and refused
    reason = _reason(request, load_public_key(rsa_pair.public_pem))
    assert reason == f"unsupported signature algorithm {algorithm} (accepted: rsa-sha256, hs2019)"


def test_rsa_sha256_claimed_for_an_ed25519_key_is_refused(ed_key):
    date = {"Date": "Fri, 01 May 2026 12:00:00 GMT"}
    request = _hand_signed(ed_key, FEDIVERSE, algorithm="rsa-sha256", extra_headers=date)
    reason = _reason(request, ed_key.public_key())
    assert reason == "algorithm rsa-sha256 does not match the signer's Ed25519 key"


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("garbage", "malformed Signature header: cannot parse at offset 0"),
        ('algorithm="rsa-sha256",signature="AAAA"', "malformed Signature header: no keyId"),
        (f'keyId="{KEY_ID}",headers="date"', "malformed Signature header: no signature"),
        (f'keyId="{KEY_ID}",signature="!!"', "malformed Signature header: signature is not base64"),
        (
            f'keyId="{KEY_ID}",keyId="x",signature="AAAA"',
            "malformed Signature header: keyId appears twice",
        ),
    ],
)
def test_malformed_signature_header_is_refused(rsa_pair, header, reason):
    request = _replace(_signed_post(load_private_key(rsa_pair.private_pem)), signature=header)
    assert _reason(request, load_public_key(rsa_pair.public_pem)) == reason
    with pytest.raises(SignatureError, match=reason):
        signature_info(request)


def test_unsigned_request_is_refused(rsa_pair):
    request = SignedRequest("POST", INBOX, {"Host": AUTHORITY, **JSON}, BODY)
    assert _reason(request, load_public_key(rsa_pair.public_pem)) == "request is not signed"
    with pytest.raises(SignatureError, match="request is not signed"):
        signature_info(request)


# -- hs2019, a missing algorithm, (created) and (expires) ------------------------------------

CREATED_COVERAGE = ["(request-target)", "host", "(created)", "(expires)", "digest"]
STAMP = int(NOW.timestamp())


@pytest.mark.parametrize("key_kind", ["rsa", "ed25519"])
@pytest.mark.parametrize("algorithm", ["hs2019", None])
def test_hs2019_and_missing_algorithm_verify_with_both_key_types(
    rsa_pair, ed_key, key_kind, algorithm
):
    # Given a signature over (created)/(expires) with no Date, by either key type
    private = load_private_key(rsa_pair.private_pem) if key_kind == "rsa" else ed_key
    request = _hand_signed(
        private, CREATED_COVERAGE, algorithm=algorithm, created=STAMP - 10, expires=STAMP + 300
    )
    # When we verify it, Then it is accepted
    assert _verify(request, private.public_key()).key_id == KEY_ID


def test_hand_signed_request_with_a_wrong_expires_value_does_not_verify(ed_key):
    # Given a valid (created)/(expires) signature whose expires parameter is later rewritten
    request = _hand_signed(ed_key, CREATED_COVERAGE, created=STAMP, expires=STAMP + 300)
    forged = request.headers["Signature"].replace(
        f"expires={STAMP + 300}", f"expires={STAMP + 900}"
    )
    # When we verify it, Then the signature covers the original expires and fails
    reason = _reason(_replace(request, signature=forged), ed_key.public_key())
    assert reason == "signature does not verify"


@pytest.mark.parametrize(
    ("created", "expires", "reason"),
    [
        (STAMP + 7200, STAMP + 9000, "signature created 2 h in the future, outside the 1 h window"),
        (STAMP - 7200, None, "signature created 2 h in the past, outside the 1 h window"),
        (STAMP - 600, STAMP - 300, "signature expired 5 min ago"),
    ],
)
def test_created_and_expires_outside_their_bounds_are_refused(ed_key, created, expires, reason):
    covered = [h for h in CREATED_COVERAGE if expires is not None or h != "(expires)"]
    request = _hand_signed(ed_key, covered, created=created, expires=expires)
    assert _reason(request, ed_key.public_key()) == reason


def test_created_covered_without_a_created_parameter_is_refused(ed_key):
    request = _hand_signed(ed_key, CREATED_COVERAGE, created=STAMP, expires=STAMP + 300)
    stripped = request.headers["Signature"].replace(f"created={STAMP},", "")
    reason = _reason(_replace(request, signature=stripped), ed_key.public_key())
    assert reason == "(created) is signed but the created parameter is missing"
