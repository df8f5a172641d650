"""HTTP signatures for federation: one entry point for draft-cavage and RFC 9421.

`signature_info` says who signed (without verifying) so the caller can apply policy and fetch
the key first; `verify_request` does the full check, handed that result so the headers are
parsed only once; `sign_request` returns the headers to add.

The decision to know: the policy both schemes share is mandatory and lives here, never "if
present". A signature must cover the method and target, the host (which must be this
instance), a time (Date or created, inside the skew window), and on a request with a body a
digest that is recomputed from the body. cavage.py and rfc9421.py know only their wire format
and crypto, and their errors are re-raised here as the one SignatureError callers catch.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate, mktime_tz, parsedate_tz
from typing import Literal

from federation.protocol.signatures import cavage, rfc9421
from federation.protocol.signatures.cavage import CavageError
from federation.protocol.signatures.digest import (
    DigestError,
    check_content_digest,
    check_digest,
    content_digest_header,
    digest_header,
)
from federation.protocol.signatures.rfc9421 import Rfc9421Error

__all__ = [
    "SignatureError",
    "SignatureInfo",
    "SignedRequest",
    "sign_request",
    "signature_info",
    "verify_request",
]

Scheme = Literal["cavage", "rfc9421"]
_SCHEME_ERRORS = (CavageError, Rfc9421Error, DigestError)
_BODYLESS_METHODS = frozenset({"GET", "HEAD"})
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}


class SignatureError(Exception):
    """The request is unsigned or its signature is not acceptable; str() is a one-line reason."""


@dataclass(frozen=True)
class SignedRequest:
    method: str  # any case
    url: str  # absolute, as addressed: scheme://authority/path?query
    headers: Mapping[str, str]  # a CIMultiDict(Proxy) or a dict with any key case
    body: bytes  # b"" for GET


@dataclass(frozen=True, slots=True)
class _Parsed:
    headers: dict[str, str]  # as _normalise_headers makes them
    signature: cavage.CavageSignature | rfc9421.MessageSignature


@dataclass(frozen=True)
class SignatureInfo:
    key_id: str
    scheme: Scheme
    # The headers and signature as parsed by signature_info, handed on to verify_request so
    # nothing is parsed twice; equality is only about who signed, and how.
    parsed: _Parsed | None = field(default=None, compare=False, repr=False)


def signature_info(request: SignedRequest) -> SignatureInfo:
    """Who signed, without verifying. RFC 9421 wins when both schemes are present."""
    headers = _normalise_headers(request.headers)
    try:
        if "signature-input" in headers:
            signature = rfc9421.select(headers)
            return SignatureInfo(signature.key_id, "rfc9421", _Parsed(headers, signature))
        if "signature" in headers:
            signature = cavage.parse_signature_header(headers["signature"])
            return SignatureInfo(signature.key_id, "cavage", _Parsed(headers, signature))
    except _SCHEME_ERRORS as exc:
        raise SignatureError(str(exc)) from exc
    raise SignatureError("request is not signed")


def verify_request(
    request: SignedRequest,
    public_key: object,
    *,
    now: datetime,
    max_skew: timedelta,
    authority: str,
    info: SignatureInfo | None = None,
) -> SignatureInfo:
    """Verify `request` against the signer's already-loaded public key, or raise SignatureError.

    `authority` is this instance's host[:port]; `now` and `max_skew` bound Date and created.
    `info`, if given, is what `signature_info` returned for this same request.
    """
    if info is None or info.parsed is None:
        info = signature_info(request)
    parsed = info.parsed
    check = _Check(
        headers=parsed.headers,
        method=request.method.upper(),
        url=request.url,
        body=request.body,
        public_key=public_key,
        authority=authority.lower(),
        now=_epoch(now),
        skew=max_skew.total_seconds(),
    )
    try:
        if info.scheme == "rfc9421":
            _verify_rfc9421(check, parsed.signature)
        else:
            _verify_cavage(check, parsed.signature)
    except _SCHEME_ERRORS as exc:
        raise SignatureError(str(exc)) from exc
    return info


@dataclass(frozen=True, slots=True)
class _Check:
    """One verification's inputs, normalised once."""

    headers: dict[str, str]  # lowercase names, trimmed values, repeats joined with ", "
    method: str  # uppercase
    url: str
    body: bytes
    public_key: object
    authority: str  # lowercase
    now: float  # epoch seconds
    skew: float  # seconds

    @property
    def has_body(self) -> bool:
        return bool(self.body) or self.method not in _BODYLESS_METHODS


def _verify_cavage(check: _Check, signature: cavage.CavageSignature) -> None:
    headers = check.headers
    cavage.check_algorithm(signature.algorithm, check.public_key)
    cavage.check_coverage(signature, has_body=check.has_body)
    _check_authority("host", headers.get("host"), check.authority)
    _check_times(check, signature.created, signature.expires)
    _check_body(check, signature.headers)
    parts = rfc9421.split_url(check.url)
    target = parts.path if parts.query is None else parts.path + "?" + parts.query
    data = cavage.signing_string(
        signature.headers,
        method=check.method,
        target=target,
        headers=headers,
        created=signature.created,
        expires=signature.expires,
    )
    cavage.verify_signature(signature.signature, check.public_key, data)


def _verify_rfc9421(check: _Check, signature: rfc9421.MessageSignature) -> None:
    headers = check.headers
    rfc9421.resolve_alg(signature.alg, check.public_key)
    parts = rfc9421.split_url(check.url)
    rfc9421.check_coverage(signature, has_body=check.has_body, has_query=parts.query is not None)
    covered = signature.covered
    if "@authority" in covered or "@target-uri" in covered:
        _check_authority("@authority", parts.authority, check.authority)
    if "host" in covered:
        _check_authority("host", headers.get("host"), check.authority)
    if signature.created is None and "date" not in covered:
        raise SignatureError("signature has no created parameter and does not cover date")
    _check_times(check, signature.created, signature.expires)
    _check_body(check, covered)
    rfc9421.verify_components(
        signature, check.public_key, method=check.method, url=check.url, headers=headers
    )


def _check_authority(what: str, signed: str | None, authority: str) -> None:
    if signed is None:
        raise SignatureError(f"signed {what} is missing from the request")
    if signed.lower() != authority:
        raise SignatureError(f"signed {what} {signed} does not match this instance ({authority})")


def _check_times(check: _Check, created: int | None, expires: int | None) -> None:
    date = check.headers.get("date")
    if date is not None:
        _check_window("Date is", _parse_http_date(date), check)
    if created is not None:
        _check_window("signature created", created, check)
    if expires is not None and expires < check.now:
        raise SignatureError(f"signature expired {_duration(check.now - expires)} ago")


def _check_window(what: str, stamp: float, check: _Check) -> None:
    offset = stamp - check.now
    if abs(offset) > check.skew:
        direction = "in the future" if offset > 0 else "in the past"
        raise SignatureError(
            f"{what} {_duration(offset)} {direction}, outside the {_duration(check.skew)} window"
        )


def _check_body(check: _Check, covered: tuple[str, ...]) -> None:
    """Recompute every covered digest from the body (coverage itself is checked per scheme)."""
    if "digest" in covered:
        value = check.headers.get("digest")
        if value is None:
            raise SignatureError("signed header digest is missing from the request")
        check_digest(value, check.body)
    if "content-digest" in covered:
        value = check.headers.get("content-digest")
        if value is None:
            raise SignatureError("signed component content-digest is missing from the request")
        check_content_digest(value, check.body)


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    key_id: str,
    private_key: object,
    now: datetime,
    scheme: Scheme = "cavage",
) -> dict[str, str]:
    """The headers to add to the request: Host, Date, Digest/Content-Digest, Signature(-Input)."""
    method = method.upper()
    parts = rfc9421.split_url(url)
    date = formatdate(_epoch(now), usegmt=True)
    added = {"Host": parts.authority, "Date": date}
    lowered = _normalise_headers(headers)
    lowered["host"] = parts.authority
    lowered["date"] = date
    if scheme == "cavage":
        covered = ["(request-target)", "host", "date"]
        if body is not None:
            added["Digest"] = lowered["digest"] = digest_header(body)
            covered.append("digest")
            if "content-type" in lowered:
                covered.append("content-type")
        target = parts.path if parts.query is None else parts.path + "?" + parts.query
        added["Signature"] = cavage.sign(
            covered,
            method=method,
            target=target,
            headers=lowered,
            key_id=key_id,
            private_key=private_key,
        )
    elif scheme == "rfc9421":
        covered = ["@method", "@target-uri", "@authority", "date"]
        if body is not None:
            added["Content-Digest"] = lowered["content-digest"] = content_digest_header(body)
            covered.append("content-digest")
        added["Signature-Input"], added["Signature"] = rfc9421.sign(
            covered,
            method=method,
            url=url,
            headers=lowered,
            key_id=key_id,
            private_key=private_key,
            created=int(_epoch(now)),
        )
    else:
        raise ValueError(f"unknown signature scheme {scheme!r}")
    return added


def _normalise_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lowercase names, trimmed values, and repeated fields joined with ", " (both specs)."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        previous = out.get(key)
        out[key] = value.strip() if previous is None else previous + ", " + value.strip()
    return out


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _parse_http_date(value: str) -> float:
    """Epoch seconds of an HTTP date; IMF-fixdate takes a fast path, obsolete forms the slow one."""
    if len(value) == 29 and value[3:5] == ", " and value[19] == ":" and value[25:] == " GMT":
        month = _MONTHS.get(value[8:11])
        digits = value[5:7] + value[12:16] + value[17:19] + value[20:22] + value[23:25]
        if month is not None and digits.isascii() and digits.isdigit():
            return calendar.timegm(
                (
                    int(value[12:16]),
                    month,
                    int(value[5:7]),
                    int(value[17:19]),
                    int(value[20:22]),
                    int(value[23:25]),
                )
            )
    parsed = parsedate_tz(value)
    if parsed is None:
        raise SignatureError(f"malformed Date header {value[:64]!r}")
    if parsed[9] is None:
        parsed = (*parsed[:9], 0)
    return float(mktime_tz(parsed))


def _duration(seconds: float) -> str:
    """7200 -> "2 h", 5400 -> "1.5 h", 300 -> "5 min", 42 -> "42 s"."""
    seconds = abs(seconds)
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}".removesuffix(".0") + " " + unit
    return f"{int(seconds)} s"
