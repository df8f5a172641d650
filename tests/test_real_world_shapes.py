"""Activities shaped the way Mastodon, GoToSocial, Misskey, Akkoma and Fedify send them are
received, parsed and processed: posts (this file) and interactions (test_real_world_shapes_interactions).

The fixtures in tests/fixtures/shapes/ were written from each project's federation documentation:
their JSON-LD contexts, to/cc as arrays or single values, compact IRIs (`as:Public`), Hashtag,
Mention and Emoji tags, `toot:` and `misskey:` extensions. Their hosts are placeholders:
`https://PEER` becomes a fake peer on loopback that serves the actor documents with fixture keys,
`https://LOCAL` becomes the Rounds instance under test, and `ALICE_POST_URI` a post alice made on it.
Every activity is signed with a real key and POSTed to a real inbox; the database tells the outcome.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from sqlalchemy import select

from federation.outbox import actions
from federation.remote.resolve import resolve_actor
from storage.models import (
    Actor,
    InboxItem,
    InboxState,
    Mention,
    Notification,
    NotificationType,
    Object,
    Tag,
    Visibility,
)
from tests.fakepeer import FakePeer, fixture_keys
from tests.instances import Instance

SHAPES = Path(__file__).parent / "fixtures" / "shapes"
KEY_INDEX = {"mastodon": 0, "gotosocial": 1, "misskey": 2, "akkoma": 3, "fedify": 4}


def _substitute(value: Any, replacements: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for old, new in replacements:
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_substitute(item, replacements) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, replacements) for key, item in value.items()}
    return value


@dataclass
class Shapes:
    """One Rounds instance with alice, and a fake peer playing each server in turn."""

    a: Instance
    peer: FakePeer
    http: aiohttp.ClientSession
    alice_post: str = "ALICE_POST_URI"

    def load(self, name: str) -> dict[str, Any]:
        server = name.split("_", 1)[0]
        replacements = [
            ("https://PEER", self.peer.base), ("https://LOCAL", self.a.base), ("ALICE_POST_URI", self.alice_post),
            ("PUBLIC_KEY_PEM", fixture_keys(KEY_INDEX[server]).public_pem),
            ("PEER", self.peer.authority), ("LOCAL", self.a.urls.authority),
        ]
        return _substitute(json.loads((SHAPES / name).read_text()), replacements)

    def serve(self, name: str) -> dict[str, Any]:
        """Serve a fixture document at the path of its own id; returns it."""
        document = self.load(name)
        self.peer.serve(urlsplit(document["id"]).path, document)
        return document

    async def known(self, server: str) -> dict[str, Any]:
        """Serve the server's actor and let alice's instance resolve it by id (as a lookup does)."""
        actor = self.serve(f"{server}_actor.json")
        await resolve_actor(self.a.fed, actor["id"])
        return actor

    async def post(self, name: str, *, inbox: str | None = None, scheme: str = "cavage",
                   changes: dict[str, Any] | None = None) -> tuple[int, str, dict]:
        """POST the fixture `name` signed, with its top-level `changes` and object `changes["object"]`."""
        server = name.split("_", 1)[0]
        activity = self.load(name)
        changes = dict(changes or {})
        if isinstance(activity.get("object"), dict):
            activity["object"] = {**activity["object"], **changes.pop("object", {})}
        activity.update(changes)
        key_id = self.load(f"{server}_actor.json")["publicKey"]["id"]
        status, text = await self.peer.post(
            self.http, server, inbox or f"{self.a.base}/inbox", activity, self.a.clock.now(),
            key=fixture_keys(KEY_INDEX[server]), key_id=key_id, scheme=scheme,
        )
        return status, text, activity

    async def deliver(self, name: str, **options: Any) -> dict[str, Any]:
        """POST the fixture signed (202 expected), then run alice's workers once."""
        status, text, activity = await self.post(name, **options)
        assert status == 202, text
        await self.a.step()
        return activity

    async def alice_posts(self, text: str) -> str:
        async with self.a.db.sessions.begin() as session:
            item = await actions.post(self.a.fed, session, await self.a.actor("alice"), content=f"<p>{text}</p>")
        self.alice_post = item.uri
        return item.uri

    async def scalar(self, query) -> Any:
        async with self.a.db.sessions() as session:
            return await session.scalar(query)

    async def scalars(self, query) -> list[Any]:
        async with self.a.db.sessions() as session:
            return list(await session.scalars(query))

    async def stored(self, uri: str) -> Object:
        found = await self.scalar(select(Object).where(Object.uri == uri))
        assert found is not None, f"{uri} was not stored"
        return found

    async def state(self, activity: dict[str, Any]) -> tuple[InboxState, str | None]:
        item = await self.scalar(select(InboxItem).where(InboxItem.activity_uri == activity["id"]))
        assert item is not None, f"{activity['id']} was not recorded"
        return item.state, item.last_error

    async def tags(self, post: Object) -> list[str]:
        return sorted(await self.scalars(select(Tag.name).where(Tag.object_id == post.id)))

    async def mentioned(self, post: Object) -> list[str]:
        return await self.scalars(
            select(Actor.uri).join(Mention, Mention.actor_id == Actor.id).where(Mention.object_id == post.id)
        )

    async def notifications(self, kind: NotificationType) -> list[Notification]:
        alice = await self.a.actor("alice")
        return await self.scalars(
            select(Notification).where(Notification.recipient_id == alice.id, Notification.type == kind)
        )


@asynccontextmanager
async def shapes_running(instances, http) -> AsyncIterator[Shapes]:
    a = await instances.start()
    await a.add_user("alice")
    peer = await FakePeer().start()
    try:
        yield Shapes(a, peer, http)
    finally:
        await peer.stop()


@pytest.fixture
async def shapes(instances, http):
    async with shapes_running(instances, http) as running:
        yield running


def assert_safe(html: str) -> None:
    for bad in ("<script", "javascript:", "onclick", "onerror", "onmouseover", "<iframe", "<object", "<img", "style="):
        assert bad not in html, f"{bad!r} survived sanitising: {html}"


async def test_mastodon_reply_with_content_warning_mention_hashtag_emoji_and_media(shapes):
    # Given alice has posted, and a Mastodon user's actor is served by its server
    alice_post = await shapes.alice_posts("MRSA screening on admission")
    shapes.serve("mastodon_actor.json")

    # When the Mastodon reply arrives at the shared inbox
    create = await shapes.deliver("mastodon_create_note.json")

    # Then it is stored public, threaded under alice's post, sanitised, with its CW and language
    assert await shapes.state(create) == (InboxState.done, None)
    note = await shapes.stored(create["object"]["id"])
    assert note.visibility is Visibility.public and note.type == "Note" and not note.local
    assert note.in_reply_to_uri == alice_post
    assert "we saw the same on ward 4" in note.content and "details" in note.content
    assert_safe(note.content)
    assert note.summary == "Patient case: MRSA cluster" and note.sensitive is True
    assert note.language == "en" and note.url == create["object"]["url"]
    # the hashtag is lowercased and the custom emoji is not mistaken for a hashtag
    assert await shapes.tags(note) == ["infectioncontrol"]
    # the media stays a remote link, with its blurhash and size, and is not downloaded
    media = create["object"]["attachment"][0]
    assert note.attachments == [{
        "type": "Document", "url": media["url"], "media_type": "image/jpeg", "name": media["name"],
        "blurhash": media["blurhash"], "width": 1280, "height": 960,
    }]
    assert not [path for method, path, *_ in shapes.peer.received if "media_attachments" in path]
    # alice is recorded as mentioned and notified
    alice = await shapes.a.actor("alice")
    assert await shapes.mentioned(note) == [alice.uri]
    [notification] = await shapes.notifications(NotificationType.mention)
    assert notification.object_id == note.id
    # and the author's Mastodon profile was understood
    author = await shapes.scalar(select(Actor).where(Actor.uri == create["actor"]))
    assert (author.username, author.shared_inbox) == ("hcarter", f"{shapes.peer.base}/inbox")
    assert author.featured_url == f"{create['actor']}/collections/featured"


@pytest.mark.parametrize("fixture, options, voters", [
    ("mastodon_create_question.json", "oneOf", 2),
    ("gotosocial_create_question.json", "anyOf", 3),
])
async def test_polls_are_stored_as_questions(shapes, fixture, options, voters):
    # Given the poll author's server serves their actor
    server = fixture.split("_", 1)[0]
    await shapes.known(server)

    # When a Create(Question) arrives (GoToSocial's with single values for to and cc)
    create = await shapes.deliver(fixture)

    # Then the poll is stored as a public Question, its options kept in the raw document
    assert await shapes.state(create) == (InboxState.done, None)
    poll = await shapes.stored(create["object"]["id"])
    assert poll.type == "Question" and poll.visibility is Visibility.public
    assert "<p>" in poll.content and poll.summary == "" and poll.sensitive is False
    assert len(poll.raw[options]) == voters


async def test_gotosocial_followers_only_note_with_single_value_fields(shapes):
    # Given alice's instance already knows the GoToSocial actor (its key id is not a fragment)
    await shapes.known("gotosocial")

    # When a followers-only note arrives with to, cc and attachment as single values
    create = await shapes.deliver("gotosocial_create_note.json", inbox=f"{shapes.a.base}/users/alice/inbox")

    # Then it is followers-only, mentions and notifies alice, and keeps its one image
    assert await shapes.state(create) == (InboxState.done, None)
    note = await shapes.stored(create["object"]["id"])
    assert note.visibility is Visibility.private
    assert await shapes.tags(note) == ["kangaroocare"]
    assert await shapes.mentioned(note) == [(await shapes.a.actor("alice")).uri]
    assert len(await shapes.notifications(NotificationType.mention)) == 1
    image = create["object"]["attachment"]
    assert note.attachments == [{
        "type": "Image", "url": image["url"], "media_type": "image/png", "name": image["name"],
        "blurhash": image["blurhash"],
    }]
    assert note.summary == "" and note.sensitive is False and note.language == "en"


async def test_misskey_home_note_with_mfm_source_and_quote(shapes):
    # Given a Misskey actor (an opaque id, its name only in preferredUsername)
    shapes.serve("misskey_actor.json")

    # When a "home" note arrives, carrying _misskey_content, source and _misskey_quote
    create = await shapes.deliver("misskey_create_note.json")

    # Then it is unlisted (Public only in cc), sanitised, tagged, and alice is notified
    assert await shapes.state(create) == (InboxState.done, None)
    note = await shapes.stored(create["object"]["id"])
    assert note.visibility is Visibility.unlisted
    assert "weight-based dosing table" in note.content
    assert_safe(note.content)
    assert await shapes.tags(note) == ["paedspharmacy"]
    assert len(await shapes.notifications(NotificationType.mention)) == 1
    assert note.raw["_misskey_quote"].endswith("/notes/9zz001") and note.raw["_misskey_content"].startswith("@alice")
    author = await shapes.scalar(select(Actor).where(Actor.uri == create["actor"]))
    assert author.username == "drtanaka" and author.display_name.startswith("田中")


async def test_akkoma_reply_with_content_map_only_fetches_its_parent(shapes):
    # Given an Akkoma actor whose earlier post (the parent) is served but unknown to alice
    shapes.serve("akkoma_actor.json")
    parent = shapes.serve("akkoma_parent_note.json")

    # When a reply arrives with contentMap but no content, a markdown source and a Link-list url
    create = await shapes.deliver("akkoma_create_note.json")

    # Then the text and language come from contentMap, sanitised, and the thread is fetched
    assert await shapes.state(create) == (InboxState.done, None)
    note = await shapes.stored(create["object"]["id"])
    assert "lactate repeat at <strong>2 h</strong>" in note.content and note.language == "fr"
    assert_safe(note.content)
    assert note.visibility is Visibility.public and note.sensitive is False
    assert note.in_reply_to_uri == parent["id"]
    assert "screening tool" in (await shapes.stored(parent["id"])).content
    assert await shapes.tags(note) == ["sepsis"]
    assert note.attachments[0]["url"].endswith("/media/3c9e1f0a/sepsis-bundle-v3.pdf")
    assert note.attachments[0]["media_type"] == "application/pdf"


async def test_akkoma_direct_message(shapes):
    # Given an Akkoma actor
    shapes.serve("akkoma_actor.json")

    # When a direct message (directMessage: true, addressed to alice only) reaches alice's inbox
    create = await shapes.deliver("akkoma_create_direct.json", inbox=f"{shapes.a.base}/users/alice/inbox")

    # Then it is stored as direct, and alice is mentioned and notified
    assert await shapes.state(create) == (InboxState.done, None)
    note = await shapes.stored(create["object"]["id"])
    assert note.visibility is Visibility.direct
    assert await shapes.mentioned(note) == [(await shapes.a.actor("alice")).uri]
    [notification] = await shapes.notifications(NotificationType.mention)
    assert notification.object_id == note.id


async def test_fedify_compact_iris_and_single_values_signed_with_rfc9421(shapes):
    # Given a Fedify-based Service actor
    shapes.serve("fedify_actor.json")

    # When a Create with "as:Public", single-valued cc/tag/attachment and a proof arrives,
    # signed with RFC 9421 as Fedify signs first
    create = await shapes.deliver("fedify_create_note.json", scheme="rfc9421")

    # Then it is public, sanitised, tagged, with its one image and its HTML url
    assert await shapes.state(create) == (InboxState.done, None)
    note = await shapes.stored(create["object"]["id"])
    assert note.visibility is Visibility.public
    assert "look-alike ampoule" in note.content
    assert_safe(note.content)
    assert await shapes.tags(note) == ["medicationsafety"]
    assert note.url == create["object"]["url"]["href"]
    assert note.attachments == [{
        "type": "Image", "url": f"{shapes.peer.base}/media/ampoules.webp", "media_type": "image/webp",
        "name": "Two ampoules with near-identical labels", "width": 800, "height": 600,
    }]
    author = await shapes.scalar(select(Actor).where(Actor.uri == create["actor"]))
    assert author.type.value == "Service" and author.url == f"{shapes.peer.base}/@quality-team"


async def test_a_reply_to_a_post_that_is_gone_is_still_stored(shapes):
    # Given the Mastodon reply's parent has been deleted at its origin (404)
    shapes.alice_post = f"{shapes.peer.base}/users/someone/statuses/deleted"
    shapes.serve("mastodon_actor.json")

    # When the reply arrives, mentioning alice
    create = await shapes.deliver("mastodon_create_note.json")

    # Then alice still gets the mention; the reply keeps its parent's id
    note = await shapes.stored(create["object"]["id"])
    assert note.in_reply_to_uri == shapes.alice_post
    assert len(await shapes.notifications(NotificationType.mention)) == 1
