"""Who signed a request: the check shared by inbox POSTs and authorized-fetch GETs.

    signature_info -> policy (by the keyId's host) -> key (cache, DB, network) -> verify

Policy comes before the key, so a refused peer costs nothing and learns nothing; in allowlist
mode its attempt is recorded as a pending peer for the admins. A signature that fails with a
stored key is tried once more with a refetched key (the peer may have rotated it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from federation.context import Federation
from federation.keystore import SignerKey, UnknownKey
from federation.signatures import (
    SignatureError,
    SignatureInfo,
    SignedRequest,
    signature_info,
    verify_request,
)
from federation.urls import authority
from storage import peers as peer_queries


class Rejection(Exception):
    """The request is refused; `status` is the HTTP status and str() the one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class Signer:
    key_id: str
    owner: str  # the actor whose key signed
    peer: str   # the signer's authority


async def authenticate(fed: Federation, request: SignedRequest) -> Signer:
    await fed.ensure_ready()
    try:
        info = signature_info(request)
    except SignatureError as exc:
        raise Rejection(401, str(exc)) from exc
    peer = authority(info.key_id)
    if not fed.policy.allows(peer):
        await _record_refusal(fed, peer)
        raise Rejection(403, f"{peer} is not a peer this instance federates with")
    try:
        key = await fed.keys.get(info.key_id)
    except UnknownKey as exc:
        raise Rejection(401, f"cannot get the signing key: {exc}") from exc
    try:
        _verify(fed, request, info, key)
    except SignatureError as exc:
        rotated = None if key.fetched_now else await _refetch(fed, info.key_id)
        if rotated is None:
            raise Rejection(401, str(exc)) from exc
        try:
            _verify(fed, request, info, rotated)
        except SignatureError as again:
            raise Rejection(401, str(again)) from again
        key = rotated
    return Signer(info.key_id, key.owner, peer)


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


async def _record_refusal(fed: Federation, peer: str) -> None:
    if fed.policy.mode != "allowlist":
        return
    async with fed.db.sessions.begin() as session:
        await peer_queries.record_contact(session, peer, fed.clock.now(), refused=True)
