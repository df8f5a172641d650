"""RFC 9421 HTTP Message Signatures for requests: select, signature base, sign, verify.

The decision to know: the signature base is rebuilt from the *parsed* Signature-Input member
(re-serialised, see structured.py) and from the URL we were addressed at; nothing the sender
wrote is copied into it verbatim. The algorithm comes from `alg` when present and is always
checked against the key type; without `alg` it is inferred from the key (RSA ->
rsa-v1_5-sha256, Ed25519 -> ed25519) unless the caller knows better (the RFC's RSA-PSS
vectors). Policy (time windows, authority, digest) is applied by
`federation.protocol.signatures.verify_request`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from federation.protocol.signatures.structured import (
    InnerList,
    Item,
    Member,
    StructuredFieldError,
    Token,
    parse_dictionary,
    serialize_dictionary,
    serialize_inner_list,
    serialize_item,
)

RSA_V1_5_SHA256 = "rsa-v1_5-sha256"
RSA_PSS_SHA512 = "rsa-pss-sha512"
ED25519 = "ed25519"
_ACCEPTED = f"{RSA_V1_5_SHA256}, {RSA_PSS_SHA512}, {ED25519}"
_PKCS1 = padding.PKCS1v15()
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
_SHA256 = hashes.SHA256()
_SHA512 = hashes.SHA512()
_DEFAULT_PORTS = {"https": ":443", "http": ":80"}


class Rfc9421Error(Exception):
    """Signature-Input/Signature is malformed, unsupported, or does not verify."""


@dataclass(frozen=True, slots=True)
class MessageSignature:
    label: str
    components: InnerList  # the Signature-Input member as parsed, parameters included
    signature: bytes
    key_id: str
    alg: str | None
    created: int | None
    expires: int | None
    covered: tuple[str, ...]  # component names, for policy checks


@dataclass(frozen=True, slots=True)
class UrlParts:
    scheme: str  # lowercase
    authority: str  # lowercase host[:port], userinfo and default port removed
    path: str  # "/" when empty
    query: str | None  # without the "?"; None when the URL has none


@lru_cache(maxsize=1024)  # the same few inbox URLs arrive again and again
def split_url(url: str) -> UrlParts:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    authority = parts.netloc.rpartition("@")[2].lower()
    default_port = _DEFAULT_PORTS.get(scheme)
    if default_port and authority.endswith(default_port):
        authority = authority[: -len(default_port)]
    query = parts.query if parts.query or url.endswith("?") else None
    return UrlParts(scheme, authority, parts.path or "/", query)


def select(headers: Mapping[str, str], key_id: str | None = None) -> MessageSignature:
    """The first signature in Signature-Input, or the first whose keyid is `key_id`."""
    raw_signatures = headers.get("signature")
    if raw_signatures is None:
        raise Rfc9421Error("Signature-Input without a Signature header")
    try:
        inputs = parse_dictionary(headers.get("signature-input", ""))
    except StructuredFieldError as exc:
        raise Rfc9421Error(f"malformed Signature-Input header: {exc}") from None
    try:
        signatures = parse_dictionary(raw_signatures)
    except StructuredFieldError as exc:
        signatures = _members_beside_cavage(raw_signatures)
        if not signatures:
            raise Rfc9421Error(f"malformed Signature header: {exc}") from None
    for label, member in inputs.items():
        if key_id is None or (
            isinstance(member, InnerList) and member.params.get("keyid") == key_id
        ):
            return _message_signature(label, member, signatures.get(label))
    if key_id is None:
        raise Rfc9421Error("malformed Signature-Input header: no signatures")
    raise Rfc9421Error(f"no signature with keyid {key_id}")


def _members_beside_cavage(raw: str) -> dict[str, Member]:
    """The parseable members of a Signature value that also holds a draft-cavage line.

    A sender using both schemes sends two Signature lines, which arrive joined by ", ". The
    cavage half is not a structured field, so the whole fails to parse; its commas still
    separate it from the RFC 9421 members (`label=:base64:`), which contain none.
    """
    members: dict[str, Member] = {}
    for part in raw.split(","):
        try:
            members.update(parse_dictionary(part))
        except StructuredFieldError:
            continue
    return members


def _message_signature(label: str, member: object, signature: object) -> MessageSignature:
    if not isinstance(member, InnerList):
        raise Rfc9421Error(f"malformed Signature-Input header: {label} is not an inner list")
    covered = []
    for item in member.items:
        if not isinstance(item.value, str) or isinstance(item.value, Token):
            raise Rfc9421Error(
                f"malformed Signature-Input header: {label} has a non-string component"
            )
        covered.append(item.value)
    if not isinstance(signature, Item) or not isinstance(signature.value, bytes):
        raise Rfc9421Error(f"malformed Signature header: no byte sequence for {label}")
    params = member.params
    key_id = params.get("keyid")
    alg = params.get("alg")
    created = params.get("created")
    expires = params.get("expires")
    if not isinstance(key_id, str) or not key_id:
        raise Rfc9421Error(f"malformed Signature-Input header: {label} has no keyid")
    if alg is not None and not isinstance(alg, str):
        raise Rfc9421Error(f"malformed Signature-Input header: {label} alg is not a string")
    for name, stamp in (("created", created), ("expires", expires)):
        if stamp is not None and (not isinstance(stamp, int) or isinstance(stamp, bool)):
            raise Rfc9421Error(
                f"malformed Signature-Input header: {label} {name} is not an integer"
            )
    return MessageSignature(
        label, member, signature.value, key_id, alg, created, expires, tuple(covered)
    )


def check_coverage(signature: MessageSignature, *, has_body: bool, has_query: bool) -> None:
    """The components every signature must cover: what it is, where it goes, and the body."""
    covered = signature.covered
    if "@method" not in covered:
        raise Rfc9421Error("signed components must include @method")
    if "@target-uri" not in covered and "@request-target" not in covered:
        if "@path" not in covered:
            raise Rfc9421Error(
                "signed components must include @target-uri (or @path and @authority)"
            )
        if has_query and "@query" not in covered:
            raise Rfc9421Error("signed components must include @query when the URL has a query")
    if "@authority" not in covered and "host" not in covered:
        raise Rfc9421Error("signed components must include @authority")
    if has_body and "content-digest" not in covered:
        raise Rfc9421Error("signed components must include content-digest")


def signature_base(
    components: InnerList, *, method: str, url: str, headers: Mapping[str, str]
) -> bytes:
    """RFC 9421 section 2.5. `headers` has lowercase names and combined, trimmed values."""
    parts: UrlParts | None = None
    lines = []
    identifiers: list[str] = []
    for item in components.items:
        name = item.value
        identifier = serialize_item(item)
        if identifier in identifiers:
            raise Rfc9421Error(f"component {identifier} is covered twice")
        identifiers.append(identifier)
        if name[:1] == "@":
            if parts is None:
                parts = split_url(url)
            value = _derived(name, item, method, url, parts)
        else:
            if item.params:
                raise Rfc9421Error(f"component parameters on {identifier} are not supported")
            found = headers.get(name)
            if found is None:
                raise Rfc9421Error(f"covered component {name} is missing from the request")
            value = found
        lines.append(identifier + ": " + value)
    lines.append('"@signature-params": ' + serialize_inner_list(components, identifiers))
    # Header text arrives from aiohttp decoded with surrogateescape; this restores the wire bytes.
    return "\n".join(lines).encode("utf-8", "surrogateescape")


def _derived(name: str, item: Item, method: str, url: str, parts: UrlParts) -> str:
    if name == "@query-param":
        return _query_param(item, parts)
    if item.params:
        raise Rfc9421Error(f"component parameters on {name} are not supported")
    if name == "@method":
        return method.upper()
    if name == "@target-uri":
        return url.partition("#")[0]
    if name == "@authority":
        return parts.authority
    if name == "@scheme":
        return parts.scheme
    if name == "@path":
        return parts.path
    if name == "@query":
        return "?" + (parts.query or "")
    if name == "@request-target":
        return parts.path if parts.query is None else parts.path + "?" + parts.query
    raise Rfc9421Error(f"unsupported derived component {name}")


def _query_param(item: Item, parts: UrlParts) -> str:
    wanted = item.params.get("name")
    if not isinstance(wanted, str) or len(item.params) != 1:
        raise Rfc9421Error('@query-param needs exactly one parameter, a string "name"')
    decoded = unquote(wanted)
    values = [v for k, v in parse_qsl(parts.query or "", keep_blank_values=True) if k == decoded]
    if len(values) != 1:
        raise Rfc9421Error(
            f"query parameter {wanted} must occur exactly once, not {len(values)} times"
        )
    return quote(values[0], safe="*").replace("~", "%7E")


def resolve_alg(alg: str | None, public_key: object) -> str:
    """The algorithm to verify with, checked against the key type."""
    is_rsa = isinstance(public_key, rsa.RSAPublicKey)
    if not is_rsa and not isinstance(public_key, ed25519.Ed25519PublicKey):
        raise Rfc9421Error(f"unsupported key type {type(public_key).__name__}")
    if alg is None:
        return RSA_V1_5_SHA256 if is_rsa else ED25519
    if alg == RSA_V1_5_SHA256 or alg == RSA_PSS_SHA512:
        if is_rsa:
            return alg
    elif alg == ED25519:
        if not is_rsa:
            return alg
    else:
        raise Rfc9421Error(f"unsupported signature algorithm {alg} (accepted: {_ACCEPTED})")
    kind = "RSA" if is_rsa else "Ed25519"
    raise Rfc9421Error(f"alg {alg} does not match the signer's {kind} key")


def verify_components(
    signature: MessageSignature,
    public_key: object,
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    alg: str | None = None,
) -> None:
    """Rebuild the signature base and check the signature; no policy checks.

    `alg` is the verifier's own knowledge of the key's algorithm; it must agree with the
    signature's `alg` parameter when both are given.
    """
    if alg is not None and signature.alg is not None and alg != signature.alg:
        raise Rfc9421Error(f"alg {signature.alg} does not match the key's algorithm {alg}")
    algorithm = resolve_alg(alg or signature.alg, public_key)
    base = signature_base(signature.components, method=method, url=url, headers=headers)
    try:
        if algorithm == ED25519:
            public_key.verify(signature.signature, base)
        elif algorithm == RSA_V1_5_SHA256:
            public_key.verify(signature.signature, base, _PKCS1, _SHA256)
        else:
            public_key.verify(signature.signature, base, _PSS, _SHA512)
    except InvalidSignature:
        raise Rfc9421Error("signature does not verify") from None


def sign(
    covered: Sequence[str],
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    key_id: str,
    private_key: object,
    created: int,
    label: str = "sig1",
) -> tuple[str, str]:
    """(Signature-Input, Signature) values for one signature over `covered`."""
    if isinstance(private_key, rsa.RSAPrivateKey):
        alg = RSA_V1_5_SHA256
    elif isinstance(private_key, ed25519.Ed25519PrivateKey):
        alg = ED25519
    else:
        raise TypeError(f"cannot sign with a {type(private_key).__name__}")
    components = InnerList(
        tuple(Item(name, {}) for name in covered),
        {"created": created, "keyid": key_id, "alg": alg},
    )
    base = signature_base(components, method=method, url=url, headers=headers)
    if alg == ED25519:
        raw = private_key.sign(base)
    else:
        raw = private_key.sign(base, _PKCS1, _SHA256)
    return (
        serialize_dictionary({label: components}),
        serialize_dictionary({label: Item(raw, {})}),
    )
