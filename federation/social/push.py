"""Web Push: a notification reaches a client app's push service, encrypted for the app.

A client registers a subscription through /api/v1/push/subscription: the push service's endpoint,
its P-256 public key (`p256dh`) and authentication secret (`auth`), which notification types it
wants (`alerts`) and from whom (`policy`). When a notification is written, `queue_for` queues one
push per matching subscription, in the same transaction. The worker (`push_worker`) claims due
pushes and POSTs each to its endpoint:

- the payload (JSON, as Mastodon's apps read it: notification id and type, title, body, icon,
  the recipient's language) is encrypted as RFC 8291 says: aes128gcm content coding (RFC 8188),
  one record, keyed by ECDH between a fresh P-256 key and the client's, and the client's secret;
  for a subscription that did not ask for the standard (`subscription[standard]`, as Mastodon
  4.4 has it), in the draft form Mastodon used before, which those apps read: aesgcm (`sealed`);
- the request carries a VAPID token (RFC 8292): a JWT signed ES256 by the instance's key, for the
  endpoint's origin, valid 12 hours, with the instance's URL as contact, and the public key;
- 2xx is delivered; 404 or 410 means the subscription is gone, and it is removed; 429, 5xx,
  a timeout or a refused connection is retried with a backoff that doubles (Retry-After honoured),
  until MAX_ATTEMPTS; any other answer is permanent (dead).

Endpoints are fetched through the guarded client (no private addresses unless the instance
allows them), never by a redirect. The federation allowlist does not apply: a push service is
not a peer, and what it receives is encrypted for the app alone.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.ext.asyncio import AsyncSession
from yarl import URL

from federation.protocol.sanitize import plain_text
from storage import follows as follow_queries
from storage import push as push_queries
from storage.models import Actor, FollowState, Notification, NotificationType
from storage.push import Push

_QUEUED = "pushes_queued"  # session.info: the notifications this transaction queued pushes for

ALERTS = ("mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update",
          "admin.sign_up", "admin.report", "quote", "quoted_update")
POLICIES = ("all", "followed", "follower", "none")
RECORD_SIZE = 4096
# push services must accept a body of 4096 bytes (RFC 8291, section 4): an aes128gcm body's header
# (86 bytes), the tag (16) and the delimiter (1) leave this much; the draft coding needs less
MAX_PAYLOAD = 3993
BODY_CHARS = 300
TOKEN_SECONDS = 12 * 3600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _public_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


# --- keys -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VapidKeys:
    private: ec.EllipticCurvePrivateKey
    public: str  # uncompressed point, base64url: what apps are given as the server key


async def load_or_make_keys(session: AsyncSession) -> VapidKeys:
    """The instance's VAPID key pair, made and stored on first use."""
    stored = await push_queries.vapid_key(session)
    if stored is None:
        private = ec.generate_private_key(ec.SECP256R1())
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        stored = await push_queries.keep_vapid_key(session, pem, b64url(_public_bytes(private.public_key())))
    private = serialization.load_pem_private_key(stored.private_key_pem.encode(), password=None)
    return VapidKeys(private, stored.public_key)


def client_key_problem(p256dh: str, auth: str) -> str | None:
    """Why a subscription's keys cannot be used, or None: `p256dh` must be a P-256 point and
    `auth` 16 bytes, both base64url."""
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(p256dh))
    except (ValueError, TypeError):
        return "keys[p256dh] is not a P-256 public key in base64url"
    try:
        if len(b64url_decode(auth)) != 16:
            return "keys[auth] must be 16 bytes in base64url"
    except (ValueError, TypeError):
        return "keys[auth] is not base64url"
    return None


# --- RFC 8291 / RFC 8188 and RFC 8292, and the drafts before them ------------------------------

def _hkdf(salt: bytes, info: bytes, length: int, key: bytes) -> bytes:
    return HKDF(hashes.SHA256(), length=length, salt=salt, info=info).derive(key)


def _agree(p256dh: str, sender: ec.EllipticCurvePrivateKey | None) -> tuple[bytes, bytes, bytes]:
    """(the client's public key, the sender's, their ECDH secret), the sender's key fresh unless given."""
    client_public = b64url_decode(p256dh)
    client = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), client_public)
    sender = sender or ec.generate_private_key(ec.SECP256R1())
    return client_public, _public_bytes(sender.public_key()), sender.exchange(ec.ECDH(), client)


def _check_size(plaintext: bytes) -> None:
    if len(plaintext) > MAX_PAYLOAD:
        raise ValueError(f"a push payload is {MAX_PAYLOAD} bytes at most")


def encrypt(plaintext: bytes, p256dh: str, auth: str, *, salt: bytes | None = None,
            sender: ec.EllipticCurvePrivateKey | None = None) -> bytes:
    """The aes128gcm body of a push for the client with these keys (RFC 8291, section 3.4): the
    header (salt, record size, the sender's public key) and one record."""
    _check_size(plaintext)
    client_public, sender_public, shared = _agree(p256dh, sender)
    salt = salt or os.urandom(16)
    ikm = _hkdf(b64url_decode(auth), b"WebPush: info\x00" + client_public + sender_public, 32, shared)
    cek = _hkdf(salt, b"Content-Encoding: aes128gcm\x00", 16, ikm)
    nonce = _hkdf(salt, b"Content-Encoding: nonce\x00", 12, ikm)
    record = AESGCM(cek).encrypt(nonce, plaintext + b"\x02", None)  # \x02: the last record, no padding
    header = salt + RECORD_SIZE.to_bytes(4, "big") + bytes([len(sender_public)]) + sender_public
    return header + record


def encrypt_legacy(plaintext: bytes, p256dh: str, auth: str, *, salt: bytes | None = None,
                   sender: ec.EllipticCurvePrivateKey | None = None) -> tuple[bytes, bytes, bytes]:
    """(the aesgcm body of a push, its salt, the sender's public key) for the client with these
    keys, as Mastodon's apps read pushes before the standard (draft-ietf-webpush-encryption-04,
    with draft-ietf-httpbis-encryption-encoding-03's aesgcm coding): one record, no padding; the
    salt and the key travel in headers (`sealed`)."""
    _check_size(plaintext)
    client_public, sender_public, shared = _agree(p256dh, sender)
    salt = salt or os.urandom(16)
    prk = _hkdf(b64url_decode(auth), b"Content-Encoding: auth\x00", 32, shared)
    context = (b"P-256\x00" + len(client_public).to_bytes(2, "big") + client_public
               + len(sender_public).to_bytes(2, "big") + sender_public)
    cek = _hkdf(salt, b"Content-Encoding: aesgcm\x00" + context, 16, prk)
    nonce = _hkdf(salt, b"Content-Encoding: nonce\x00" + context, 12, prk)
    return AESGCM(cek).encrypt(nonce, b"\x00\x00" + plaintext, None), salt, sender_public  # \x00\x00: no padding


def vapid_token(endpoint: str, keys: VapidKeys, contact: str, now: float) -> str:
    """The VAPID JWT for a push to `endpoint` (RFC 8292): ES256, for the endpoint's origin,
    valid TOKEN_SECONDS, with the instance's URL as contact."""
    url = URL(endpoint)
    audience = f"{url.scheme}://{url.authority}" if url.explicit_port else f"{url.scheme}://{url.host}"
    header = b64url(json.dumps({"typ": "JWT", "alg": "ES256"}, separators=(",", ":")).encode())
    claims = b64url(json.dumps({"aud": audience, "exp": int(now) + TOKEN_SECONDS, "sub": contact},
                               separators=(",", ":")).encode())
    signed = f"{header}.{claims}".encode()
    r, s = decode_dss_signature(keys.private.sign(signed, ec.ECDSA(hashes.SHA256())))
    return f"{header}.{claims}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def sealed(message: bytes, p256dh: str, auth: str, *, standard: bool, endpoint: str, keys: VapidKeys,
           contact: str, now: float) -> tuple[bytes, dict[str, str]]:
    """A push's body, and the headers that say how to read it and who sends it. A standard
    subscription (`subscription[standard]`, Mastodon 4.4) gets RFC 8291's aes128gcm and RFC
    8292's `vapid` scheme; any other, what Mastodon sent before, which apps that do not ask for
    the standard still read: aesgcm, the salt in `Encryption`, the sender's key and the VAPID key
    in `Crypto-Key`, the token under the `WebPush` scheme."""
    token = vapid_token(endpoint, keys, contact, now)
    if standard:
        return encrypt(message, p256dh, auth), {"Content-Encoding": "aes128gcm",
                                                "Authorization": f"vapid t={token}, k={keys.public}"}
    body, salt, sender_public = encrypt_legacy(message, p256dh, auth)
    return body, {"Content-Encoding": "aesgcm", "Encryption": f"salt={b64url(salt)}",
                  "Crypto-Key": f"dh={b64url(sender_public)};p256ecdsa={keys.public}",
                  "Authorization": f"WebPush {token}"}


# --- queueing ---------------------------------------------------------------------------------

async def queue_for(session: AsyncSession, recipient: Actor, notification: Notification, sender: Actor) -> None:
    """A push for each of the recipient's subscriptions that wants this notification: its type is
    in the alerts, and its policy admits the sender (followed: someone the recipient follows;
    follower: someone who follows the recipient; none: nobody)."""
    subscriptions = await push_queries.subscription_rules(session, recipient.id)
    wanted = [s for s in subscriptions if s.alerts.get(notification.type.value) and s.policy != "none"]
    if not wanted:
        return
    admitted = []
    for subscription in wanted:
        if subscription.policy == "followed":
            follow = await follow_queries.follow_between(session, recipient.id, sender.id)
        elif subscription.policy == "follower":
            follow = await follow_queries.follow_between(session, sender.id, recipient.id)
        else:
            admitted.append(subscription.id)
            continue
        if follow is not None and follow.state is FollowState.accepted:
            admitted.append(subscription.id)
    if admitted:
        await push_queries.queue_pushes(session, notification.id, admitted, notification.created_at)
        session.info.setdefault(_QUEUED, []).append(notification.id)


def take_queued(session: AsyncSession) -> bool:
    """Whether the session's transaction queued any push (`queue_for`); asked once, when it has
    committed, so that only a transaction that queued one wakes the push worker. A list in
    `session.info`, so a savepoint that rolls back takes its entries with it (storage.db.savepoint)."""
    return bool(session.info.pop(_QUEUED, None))


# --- the payload ------------------------------------------------------------------------------

_TITLES = {
    "en": {
        NotificationType.mention: "{name} mentioned you",
        NotificationType.status: "{name} posted",
        NotificationType.reblog: "{name} boosted your post",
        NotificationType.follow: "{name} follows you",
        NotificationType.follow_request: "{name} asks to follow you",
        NotificationType.favourite: "{name} favourited your post",
        NotificationType.poll: "A poll has ended",
        NotificationType.update: "{name} edited a post you boosted",
        NotificationType.quote: "{name} quoted your post",
    },
    "fr": {
        NotificationType.mention: "{name} vous a mentionné·e",
        NotificationType.status: "{name} a publié",
        NotificationType.reblog: "{name} a partagé votre publication",
        NotificationType.follow: "{name} vous suit",
        NotificationType.follow_request: "{name} demande à vous suivre",
        NotificationType.favourite: "{name} a mis votre publication en favori",
        NotificationType.poll: "Un sondage est terminé",
        NotificationType.update: "{name} a modifié une publication que vous avez partagée",
        NotificationType.quote: "{name} a cité votre publication",
    },
}


_NEW = {"en": "New notification from {name}", "fr": "Nouvelle notification de {name}"}  # any other type


def payload(push: Push) -> bytes:
    """What the app decrypts, in the shape Mastodon's apps read. There is no access token in it:
    tokens are kept only as hashes here, and the app already holds its own."""
    notification, sender = push.notification, push.sender
    locale = push.locale if push.locale in _TITLES else "en"
    name = sender.display_name or sender.username
    body = ""
    if push.post is not None and push.post.deleted_at is None:
        body = plain_text((push.post.content or "").replace("</p>", "</p>\n")).strip()
        if push.post.summary:
            body = push.post.summary
    if len(body) > BODY_CHARS:
        body = body[:BODY_CHARS - 1].rstrip() + "…"
    document = {
        "notification_id": str(notification.id),
        "notification_type": notification.type.value,
        "preferred_locale": locale,
        "title": _TITLES[locale].get(notification.type, _NEW[locale]).format(name=name),
        "body": body,
        "icon": sender.avatar_url or "",
    }
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    while len(data) > MAX_PAYLOAD:  # a long name in a multi-byte script: shorten the body
        document["body"] = document["body"][: len(document["body"]) // 2]
        data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return data


def alerts_from(values: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, bool]:
    """The alerts a client asked for (`data[alerts][mention]=true`, or nested JSON), over
    `current`; unknown types are left out, as Mastodon does."""
    alerts = dict(current or dict.fromkeys(ALERTS, False))
    for name in ALERTS:
        if name in values:
            alerts[name] = values[name] in (True, "true", "1", 1, "on")
    return alerts

