"""Small row factories for tests that need data the public flows cannot make yet."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from federation.protocol.keys import generate_rsa_keypair
from federation.protocol.vocab import AS_CONTEXT, PUBLIC
from storage.models import (
    Activity,
    Actor,
    ActorType,
    Follow,
    FollowState,
    Object,
    Visibility,
)

_KEYS = generate_rsa_keypair()


def remote_actor(n: int, domain: str = "remote.example") -> Actor:
    uri = f"https://{domain}/users/r{n}"
    return Actor(
        uri=uri, local=False, type=ActorType.Person, username=f"r{n}", domain=domain,
        inbox=f"{uri}/inbox", shared_inbox=f"https://{domain}/inbox",
        key_id=f"{uri}#main-key", public_key_pem=_KEYS.public_pem,
    )


async def add_followers(session: AsyncSession, actor: Actor, count: int) -> list[str]:
    """`count` accepted remote followers of `actor`, oldest first; returns their URIs."""
    uris = []
    for n in range(count):
        follower = remote_actor(n)
        session.add(follower)
        await session.flush()
        session.add(Follow(follower_id=follower.id, followee_id=actor.id, state=FollowState.accepted))
        uris.append(follower.uri)
    await session.flush()
    return uris


async def add_public_notes(session: AsyncSession, actor: Actor, count: int) -> list[str]:
    """`count` public notes by local `actor` with their Create activities, oldest first;
    returns the activity URIs."""
    uris = []
    for n in range(count):
        note = Object(uri=f"{actor.uri}/statuses/n{n}", type="Note", actor_id=actor.id, local=True,
                      visibility=Visibility.public, content=f"<p>note {n}</p>")
        session.add(note)
        await session.flush()
        uri = f"{note.uri}/activity"
        session.add(Activity(
            uri=uri, type="Create", actor_id=actor.id, object_uri=note.uri, object_id=note.id,
            local=True, public=True,
            raw={"@context": AS_CONTEXT, "id": uri, "type": "Create", "actor": actor.uri,
                 "to": [PUBLIC], "object": note.uri},
        ))
        uris.append(uri)
    await session.flush()
    return uris
