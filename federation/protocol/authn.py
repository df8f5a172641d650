"""Who signed a request: the check shared by inbox POSTs and authorized-fetch GETs.

    signature_info -> policy (by the keyId's host) -> key (cache, DB, network) -> verify

Policy comes before the key, so a refused peer costs nothing and learns nothing: its request is a
knock, counted for the admins (federation.peers.contacts) with its signature checked only against a
key we already hold, never one fetched from it. A signature that fails with a stored key is tried
once more with a refetched key (the peer may have rotated it).

A valid signed request, POST or GET, is counted for its peer, and shows that the peer is up: if
our deliveries to it were backing off, they become due at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from federation.runtime.context import Federation
from federation.protocol.keystore import SignerKey, UnknownKey
from federation.peers.policy import NOT_ALLOWED
from federation.protocol.signatures import (
    SignatureError,
    SignatureInfo,
    SignedRequest,
    signature_info,
    verify_request,
)
from federation.protocol.urls import authority
from storage import peers as peer_queries


class Rejection(Exception):
    """The request is refused; `status` is the HTTP status, str() the one-line reason, and
    `peer` the signer's authority when it is known."""

    def __init__(self, status: int, reason: str, peer: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.peer = peer


@dataclass(frozen=True)
class Signer:
    key_id: str
    owner: str  # the actor whose key signed
    peer: str   # the signer's authority


async def authenticate(fed: Federation, request: SignedRequest, *, source: str = "") -> Signer:
    """The signer of `request`, or Rejection. `source` is the address it came from (for the limit
    on the pending peers one address may bring)."""
    await fed.ensure_ready()
    try:
        info = signature_info(request)
    except SignatureError as exc:
        raise Rejection(401, str(exc)) from exc
    peer = authority(info.key_id)
    refusal = fed.policy.refusal(peer)
    if refusal is not None:
        await _record_knock(fed, request, info, peer, refusal, source)
        raise Rejection(403, f"{peer} is not a peer this instance federates with", peer)
    try:
        key = await fed.keys.get(info.key_id)
    except UnknownKey as exc:
        raise Rejection(401, f"cannot get the signing key: {exc}", peer) from exc
    try:
        _verify(fed, request, info, key)
    except SignatureError as exc:
        rotated = None if key.fetched_now else await _refetch(fed, info.key_id)
        if rotated is None:
            raise Rejection(401, str(exc), peer) from exc
        try:
            _verify(fed, request, info, rotated)
        except SignatureError as again:
            raise Rejection(401, str(again), peer) from again
        key = rotated
    fed.contacts.seen(peer)
    if peer in fed.backoffs:
        await _peer_is_back(fed, peer)
    return Signer(info.key_id, key.owner, peer)


def claimed_peer(request: SignedRequest) -> str | None:
    """The authority of the key a request says it is signed with (unchecked): for log lines."""
    try:
        return authority(signature_info(request).key_id)
    except (SignatureError, ValueError):
        return None


def _verify(fed: Federation, request: SignedRequest, info: SignatureInfo, key: SignerKey) -> None:
    verify_request(
        request, key.public_key, now=fed.clock.now(),
        max_skew=timedelta(seconds=fed.settings.signature_max_skew_seconds), authority=fed.urls.authority,
        info=info,
    )


async def _refetch(fed: Federation, key_id: str) -> SignerKey | None:
    try:
        return await fed.keys.refetch(key_id)
    except UnknownKey:
        return None


async def _record_knock(fed: Federation, request: SignedRequest, info: SignatureInfo, peer: str, refusal: str,
                        source: str) -> None:
    """Count a refused request for the admins, within the per-address limit. Its signature is
    checked against a key we hold (once per peer between two writes of the counts)."""
    contacts = fed.contacts
    if not contacts.admit(peer, source):
        return
    signature = None
    if not contacts.knocked_lately(peer):
        key = await fed.keys.held(info.key_id)
        signature = "unverified"
        if key is not None:
            try:
                _verify(fed, request, info, key)
                signature = "valid"
            except SignatureError:
                signature = "invalid"
    route = f"{request.method.upper()} {urlsplit(request.url).path}"
    contacts.refused(peer, route=route, reason=refusal, key_id=info.key_id, signature=signature,
                     may_pend=refusal == NOT_ALLOWED)


async def _peer_is_back(fed: Federation, peer: str) -> None:
    """A peer in backoff reached us, so it is up: its queued deliveries become due now."""
    async with fed.db.sessions.begin() as session:
        await peer_queries.reset_backoff(session, peer, fed.clock.now())
    fed.backoffs.discard(peer)
    fed.wake.deliveries.set()
