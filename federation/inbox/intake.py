"""Receiving: every signed POST to an inbox goes through `receive`.

    policy -> key -> signature (federation.protocol.authn) -> parse -> origin checks -> store

A Create of a post signed by someone else (forwarded by the server of a post it answers) is
kept with its post by reference, which the worker fetches from its origin (`_forwarded`). A
Delete of an actor by itself whose key cannot be fetched, and which was never known here, is
acknowledged and stored nowhere (`_stranger_gone`).

The order is the point. Policy is decided from the keyId's host before any key is fetched, so a
refused peer costs nothing and learns nothing. Nothing is written until every check has passed,
and then only the inbox row, unique on the activity id: handlers run later, in a worker (see
`federation.inbox.worker`).

The body is decoded by `federation.protocol.vocab.jsondoc.load_json`, so one nested deeper than
[server] max_json_depth is refused (400) before anything recurses over it. Only the activity's
head is parsed here (what the checks need; it refuses whatever the full parse would), and the
row keeps the body's text as it came: the worker decodes it again, through the same loader, and
parses the whole activity. The row's identifiers must fit their columns exactly (no NUL, no lone
surrogate, not too long), or the request is refused. Rows are written by
`federation.inbox.writer.InboxWriter`, a group commit, and the request is answered (202) only
once its row is durable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import orjson


from federation.remote.actors import ActorError, check_identity, check_key_binding
from federation.remote.resolve import RemoteError, resolve_actor
from federation.protocol.authn import Rejection, authenticate
from federation.protocol.keystore import UnknownKey
from federation.runtime.context import Federation
from federation.protocol.signatures import SignedRequest
from federation.protocol.urls import authority
from federation.protocol.vocab.context import AS_CONTEXT
from federation.protocol.vocab.jsondoc import JSONRefused, load_json
from federation.protocol.vocab.actors import APActor
from federation.protocol.vocab.parse import (
    APActivityHead,
    APPostHead,
    VocabError,
    ap_to_activity_head,
)
from storage import actors as actor_queries
from storage.ids import new_id
from storage import posts as post_queries
from storage.models import InboxItem
from storage.text import fits

log = logging.getLogger(__name__)

FORWARDED = "#forwarded"  # after a forwarded Create's id: the id its row is stored under


@dataclass(frozen=True)
class Received:
    activity_id: str
    activity_type: str
    duplicate: bool


async def receive(fed: Federation, request: SignedRequest, *, recipient_id: int | None, source: str = "") -> Received:
    """Check and store one inbox POST, or raise Rejection (nothing stored). `source` is the
    address it came from."""
    try:
        signer = await authenticate(fed, request, source=source)
    except Rejection as exc:
        if isinstance(exc.__cause__, UnknownKey) and (gone := await _stranger_gone(fed, request.body)) is not None:
            log.info("inbox: %s deleted itself, and was never known here: nothing to do", gone.actor)
            return Received(gone.id, gone.type, duplicate=True)
        raise
    text, activity = _parse(request.body, fed.max_json_depth)
    await _check_origins(fed, activity)
    uri = activity.id
    if activity.actor != signer.owner:
        text, uri = await _forwarded(fed, activity, signer.owner)
    _check_storable(activity, uri, signer.key_id)

    row = {
        "id": new_id(),
        "activity_uri": uri,
        "activity_type": activity.type,
        "actor_uri": activity.actor,
        "signer_key_id": signer.key_id,
        "recipient_id": recipient_id,
        "raw": text,
    }
    new = await fed.inbox_writer.submit(row)
    if new:
        fed.wake.inbox.set()
    return Received(uri, activity.type, duplicate=not new)


async def _stranger_gone(fed: Federation, body: bytes) -> APActivityHead | None:
    """The activity, if it is an actor's Delete of itself and no actor of that id is known here:
    its key cannot be fetched any more (the actor is gone), and there is nothing of it to delete.
    It is acknowledged, stored nowhere, as Mastodon does; refusing it would have its server try
    again for days. Anything else: None."""
    try:
        _, activity = _parse(body, fed.max_json_depth)
    except Rejection:
        return None
    if activity.type != "Delete" or activity.object_id != activity.actor:
        return None
    async with fed.db.sessions() as session:
        known = await actor_queries.actor_by_uri(session, activity.actor)
    return activity if known is None else None


async def _forwarded(fed: Federation, activity: APActivityHead, signer: str) -> tuple[str, str]:
    """(the text to store, its id) of an activity signed by someone other than its actor. A
    Create of a post, as Mastodon forwards a reply to the followers of the post it answers
    (signed by that post's author; who forwards what cannot be checked), is stored with its post
    by reference, so the worker fetches the post from its origin and trusts nothing of the body
    but the post's id. It is stored under an id of its own (FORWARDED after the activity's), so
    that the author's own delivery of the same Create, if it comes, is never taken for a
    duplicate of it. Its actor's host must be a peer the policy allows, not this instance; the
    actor is fetched now, as a signer's is. Anything else: 401."""
    if activity.type != "Create" or not isinstance(activity.object, APPostHead):
        raise Rejection(401, f"signed by a key of {signer}, but the activity's actor is {activity.actor}")
    origin = authority(activity.actor)
    if origin == fed.urls.authority or fed.policy.refusal(origin) is not None:
        raise Rejection(403, f"forwarded by {signer}: {origin} is not a peer this instance federates with")
    try:
        await resolve_actor(fed, activity.actor)
    except RemoteError as exc:
        raise Rejection(401, f"forwarded by {signer}, and its actor cannot be fetched: {exc}") from exc
    log.info("inbox: %s's Create of %s, forwarded by %s, is kept by reference", activity.actor,
             activity.object.id, signer)
    uri = activity.id + FORWARDED
    return orjson.dumps({"@context": AS_CONTEXT, "id": uri, "type": "Create", "actor": activity.actor,
                         "object": activity.object.id}).decode(), uri


def _parse(body: bytes, max_depth: int) -> tuple[str, APActivityHead]:
    """The body as text (it is stored as it came) and the activity it holds."""
    try:
        text = body.decode()  # ActivityPub bodies are UTF-8
    except UnicodeDecodeError as exc:
        raise Rejection(400, f"the body is not UTF-8: {exc.reason} at byte {exc.start}") from exc
    try:
        document = load_json(text, max_depth)
    except JSONRefused as exc:
        raise Rejection(400, f"the body is {exc}") from exc
    try:
        return text, ap_to_activity_head(document)
    except VocabError as exc:
        raise Rejection(400, str(exc)) from exc


def _check_storable(activity: APActivityHead, uri: str, key_id: str) -> None:
    """The row's identifiers (its activity id is `uri`) must be stored exactly: one the database
    cannot take (too long, a NUL, a lone surrogate) is refused here, rather than failing the
    batch its row joins."""
    columns = InboxItem.__table__.c
    for what, value, column in (
        ("id", uri, columns.activity_uri), ("type", activity.type, columns.activity_type),
        ("actor", activity.actor, columns.actor_uri), ("key id", key_id, columns.signer_key_id),
    ):
        limit = column.type.length
        if len(value) > limit:
            raise Rejection(400, f"the activity's {what} is longer than {limit} characters")
        if not fits(value, limit):
            raise Rejection(400, f"the activity's {what} holds a NUL or a lone surrogate, which cannot be stored")


def _to_community_here(fed: Federation, activity: APActivityHead) -> bool:
    """Whether the activity is done in a community hosted here (its `audience`): a moderator
    elsewhere may delete another's post there (FEP-1b12), which the Delete handler decides by the
    community's moderators; an actor's claims elsewhere stay refused here."""
    return any(uri.startswith(fed.urls.base + "/") for uri in activity.groups)


async def _check_origins(fed: Federation, activity: APActivityHead) -> None:
    """An actor speaks only for its own origin; claims about other origins are refused."""
    origin = authority(activity.actor)
    if authority(activity.id) != origin:
        raise Rejection(403, f"activity {activity.id} is not on its actor's host {origin}")
    embedded = activity.object
    if activity.type in ("Create", "Update") and isinstance(embedded, APPostHead):
        if authority(embedded.id) != origin or embedded.attributed_to != activity.actor:
            raise Rejection(
                403, f"{activity.type} of {embedded.id}, which is attributed to {embedded.attributed_to}, "
                f"not to {activity.actor}"
            )
    if activity.type == "Update" and isinstance(embedded, APActor):
        if embedded.id != activity.actor:
            raise Rejection(403, f"{activity.actor} cannot update the actor {embedded.id}")
        try:
            check_identity(embedded)
            async with fed.db.sessions() as session:
                await check_key_binding(session, embedded)
        except ActorError as exc:
            raise Rejection(403, str(exc)) from exc
    if activity.type == "Undo" and isinstance(embedded, APActivityHead) and embedded.actor != activity.actor:
        raise Rejection(403, f"{activity.actor} cannot undo an activity of {embedded.actor}")
    if activity.type == "Delete" and activity.object_id and not _to_community_here(fed, activity):
        if authority(activity.object_id) != origin:
            raise Rejection(403, f"{activity.actor} cannot delete {activity.object_id} on another host")
        async with fed.db.sessions() as session:
            author = await post_queries.post_author_uri(session, activity.object_id)
        if author is not None and author != activity.actor:
            raise Rejection(403, f"{activity.actor} cannot delete {activity.object_id}: it is {author}'s")

