"""Real-world shapes, part two: edits, likes, boosts, deletes and follows as Mastodon, Misskey and
GoToSocial send them (the fixtures and the harness are described in test_real_world_shapes)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from storage.models import (
    Announce,
    Follow,
    FollowState,
    InboxState,
    Like,
    NotificationType,
    ObjectEdit,
)
from tests.test_real_world_shapes import Shapes, shapes_running


@pytest.fixture
async def shapes(instances, http):
    async with shapes_running(instances, http) as running:
        yield running


async def _mastodon_reply_stored(shapes: Shapes) -> dict:
    await shapes.alice_posts("MRSA screening on admission")
    shapes.serve("mastodon_actor.json")
    return await shapes.deliver("mastodon_create_note.json")


async def test_mastodon_update_edits_the_note_and_keeps_its_history(shapes):
    # Given a Mastodon reply stored on alice's instance
    create = await _mastodon_reply_stored(shapes)

    # When Mastodon sends the Update (an `updated` timestamp, a fragment in the activity id)
    update = await shapes.deliver("mastodon_update_note.json")

    # Then the note carries the new text and CW, and the old version is in its history
    assert await shapes.state(update) == (InboxState.done, None)
    note = await shapes.stored(create["object"]["id"])
    assert "cluster is closed" in note.content and note.summary == "Patient case: MRSA cluster (resolved)"
    assert note.updated is not None and note.attachments is None
    [edit] = await shapes.scalars(select(ObjectEdit).where(ObjectEdit.object_id == note.id))
    assert "we saw the same on ward 4" in edit.content and edit.summary == "Patient case: MRSA cluster"
    assert edit.attachments and edit.attachments[0]["blurhash"]
    assert await shapes.tags(note) == ["infectioncontrol"]


async def test_mastodon_like_and_announce_of_a_local_post(shapes):
    # Given alice's post and a Mastodon actor
    alice_post = await shapes.alice_posts("Hand hygiene audit results")
    shapes.serve("mastodon_actor.json")
    post = await shapes.stored(alice_post)

    # When the Mastodon user favourites it (bare object id) and boosts it (Public in to)
    like = await shapes.deliver("mastodon_like.json")
    announce = await shapes.deliver("mastodon_announce.json")

    # Then both are recorded against alice's post, and alice is notified of each
    assert await shapes.state(like) == (InboxState.done, None)
    assert await shapes.state(announce) == (InboxState.done, None)
    [favourite] = await shapes.scalars(select(Like).where(Like.object_id == post.id))
    assert favourite.uri == like["id"]
    [boost] = await shapes.scalars(select(Announce).where(Announce.object_id == post.id))
    assert boost.uri == announce["id"] and boost.public is True
    assert len(await shapes.notifications(NotificationType.favourite)) == 1
    assert len(await shapes.notifications(NotificationType.reblog)) == 1


async def test_mastodon_delete_with_an_embedded_tombstone(shapes):
    # Given a Mastodon reply stored on alice's instance
    create = await _mastodon_reply_stored(shapes)

    # When Mastodon deletes it (a Tombstone object, and an LD signature we do not need)
    delete = await shapes.deliver("mastodon_delete_note.json")

    # Then the note becomes a tombstone with its content gone
    assert await shapes.state(delete) == (InboxState.done, None)
    note = await shapes.stored(create["object"]["id"])
    assert note.deleted_at is not None and note.content == "" and note.raw is None


async def test_misskey_emoji_reaction_counts_as_a_like(shapes):
    # Given alice's post and a Misskey actor
    alice_post = await shapes.alice_posts("Paediatric dosing table v2")
    shapes.serve("misskey_actor.json")

    # When Misskey reacts with a custom emoji (a Like with _misskey_reaction and an Emoji tag)
    like = await shapes.deliver("misskey_like_reaction.json")

    # Then it is a favourite of alice's post
    assert await shapes.state(like) == (InboxState.done, None)
    post = await shapes.stored(alice_post)
    assert [row.uri for row in await shapes.scalars(select(Like).where(Like.object_id == post.id))] == [like["id"]]
    assert len(await shapes.notifications(NotificationType.favourite)) == 1


async def test_gotosocial_follow_is_accepted_at_the_actor_inbox(shapes):
    # Given alice's instance knows the GoToSocial actor, which has no shared inbox
    actor = await shapes.known("gotosocial")

    # When its Follow arrives, addressed with a single-valued `to`
    follow = await shapes.deliver("gotosocial_follow.json", inbox=f"{shapes.a.base}/users/alice/inbox")

    # Then the follow is accepted, alice is notified, and the Accept is POSTed to the actor's inbox
    assert await shapes.state(follow) == (InboxState.done, None)
    [row] = await shapes.scalars(select(Follow))
    assert row.state is FollowState.accepted and row.uri == follow["id"]
    assert len(await shapes.notifications(NotificationType.follow)) == 1
    accepts = [json.loads(body) for method, path, _, body in shapes.peer.received
               if method == "POST" and path == "/users/nurse_okafor/inbox"]
    assert [(a["type"], a["object"]["id"]) for a in accepts] == [("Accept", follow["id"])]
    assert actor["inbox"].endswith("/users/nurse_okafor/inbox")


async def test_gotosocial_first_contact_through_the_main_key_stub(shapes):
    # Given a GoToSocial actor alice's instance has never seen: its key id (".../main-key", no
    # fragment) serves only a stub with the key, as GoToSocial does; the full actor is at its id
    actor = shapes.serve("gotosocial_actor.json")
    shapes.peer.serve(f"{actor['id'].removeprefix(shapes.peer.base)}/main-key", shapes.load("gotosocial_key_stub.json"))

    # When its Follow arrives
    status, text, _ = await shapes.post("gotosocial_follow.json", inbox=f"{shapes.a.base}/users/alice/inbox")

    # Then the key is found through the stub's owner and the follow is accepted
    assert status == 202, text
    await shapes.a.step()
    [row] = await shapes.scalars(select(Follow))
    assert row.state is FollowState.accepted
