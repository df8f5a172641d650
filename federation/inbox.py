"""Receiving: every signed POST to an inbox goes through `receive`.

    policy -> key -> signature (federation.authn) -> parse -> origin checks -> store

The order is the point. Policy is decided from the keyId's host before any key is fetched, so a
refused peer costs nothing and learns nothing. Nothing is written until every check has passed,
and then only the inbox row, unique on the activity id: handlers run later, in a worker (see
`federation.processing`).

Only the activity's head is parsed here (what the checks need; it refuses whatever the full
parse would), and the row keeps the body's text as it came: the worker parses the whole activity
from it. Rows are written by `federation.inbox_writer.InboxWriter`, a group commit, and the
request is answered (202) only once its row is durable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import orjson
from sqlalchemy import select

from federation.actors import ActorError, check_identity, check_key_binding
from federation.authn import Rejection, authenticate
from federation.context import Federation
from federation.signatures import SignedRequest
from federation.urls import authority
from federation.vocab.parse import (
    APActivityHead,
    APActor,
    APPostHead,
    VocabError,
    ap_to_activity_head,
)
from storage import peers as peer_queries
from storage.ids import new_id
from storage.models import Actor, Object


@dataclass(frozen=True)
class Received:
    activity_id: str
    activity_type: str
    duplicate: bool


async def receive(fed: Federation, request: SignedRequest, *, recipient_id: int | None) -> Received:
    """Check and store one inbox POST, or raise Rejection (nothing stored)."""
    signer = await authenticate(fed, request)
    text, activity = _parse(request.body)
    if activity.actor != signer.owner:
        raise Rejection(401, f"signed by a key of {signer.owner}, but the activity's actor is {activity.actor}")
    await _check_origins(fed, activity)

    row = {
        "id": new_id(),
        "activity_uri": activity.id,
        "activity_type": activity.type,
        "actor_uri": activity.actor,
        "signer_key_id": signer.key_id,
        "recipient_id": recipient_id,
        "raw": text,
    }
    new = await fed.inbox_writer.submit(row)
    if new:
        fed.inbox_queued.set()
    if signer.peer in fed.peers_in_backoff:
        await _peer_is_back(fed, signer.peer)
    return Received(activity.id, activity.type, duplicate=not new)


def _parse(body: bytes) -> tuple[str, APActivityHead]:
    """The body as text (it is stored as it came) and the activity it holds."""
    try:
        text = body.decode()
        try:
            document = orjson.loads(text)  # twice as fast as json here
        except orjson.JSONDecodeError:  # what only json takes: an integer beyond 64 bits, NaN
            document = json.loads(text)
    except ValueError as exc:  # UnicodeDecodeError included: ActivityPub bodies are UTF-8
        raise Rejection(400, f"the body is not JSON: {exc}") from exc
    except RecursionError as exc:  # json's limit, past orjson's: arrays or objects nested too deep
        raise Rejection(400, "the body is not JSON we can read: it is nested too deep") from exc
    try:
        return text, ap_to_activity_head(document)
    except VocabError as exc:
        raise Rejection(400, str(exc)) from exc


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
    if activity.type == "Delete" and activity.object_id:
        if authority(activity.object_id) != origin:
            raise Rejection(403, f"{activity.actor} cannot delete {activity.object_id} on another host")
        async with fed.db.sessions() as session:
            author = await session.scalar(
                select(Actor.uri).join(Object, Object.actor_id == Actor.id).where(Object.uri == activity.object_id)
            )
        if author is not None and author != activity.actor:
            raise Rejection(403, f"{activity.actor} cannot delete {activity.object_id}: it is {author}'s")


async def _peer_is_back(fed: Federation, peer: str) -> None:
    """A peer in backoff reached us, so it is up: its queued deliveries become due now."""
    async with fed.db.sessions.begin() as session:
        await peer_queries.reset_backoff(session, peer, fed.clock.now())
    fed.peers_in_backoff.discard(peer)
    fed.deliveries_queued.set()
