"""Bounds on one incoming post ([federation] object_max_*): the first attachments, hashtags and
mentions are kept and the cut is logged; invalid hashtag names are dropped; content over the
cap is refused (the activity acknowledged and recorded as ignored with the reason, not
retried, nothing stored). A Mastodon-shaped note (tests/fixtures/shapes) arrives signed at a
real instance.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from federation.runtime.settings import FederationSettings
from federation.protocol.vocab.values import hashtag_name
from storage.models import InboxState, Notification, Object
from tests.test_real_world_shapes import Shapes, shapes_running

LIMITS = FederationSettings()


@pytest.fixture
async def shapes(instances, http):
    async with shapes_running(instances, http) as running:
        await running.alice_posts("MRSA screening on admission")
        running.serve("mastodon_actor.json")
        yield running


def _note_changes(shapes: Shapes, n: str, **fields) -> dict:
    return {"id": f"{shapes.peer.base}/users/hcarter/statuses/{n}/activity",
            "object": {"id": f"{shapes.peer.base}/users/hcarter/statuses/{n}", **fields}}


async def test_the_first_attachments_hashtags_and_mentions_are_kept_and_the_cut_logged(shapes, caplog):
    # Given local users bob and carol besides alice
    for name in ("bob", "carol"):
        await shapes.a.add_user(name)
    a = shapes.a.base
    # When a note arrives with 100 attachments, 100 hashtags and 100 mentions, where alice is
    # the first mention, bob the last one kept (the 50th) and carol the first one cut (the 51st)
    attachments = [{"type": "Document", "mediaType": "image/png", "url": f"{shapes.peer.base}/media/{i}.png"}
                   for i in range(100)]
    hashtags = [{"type": "Hashtag", "name": f"#ward{i}", "href": f"{shapes.peer.base}/tags/ward{i}"} for i in range(100)]
    mentioned = [f"{a}/users/alice"] + [f"{shapes.peer.base}/users/u{i}" for i in range(48)] + [
        f"{a}/users/bob", f"{a}/users/carol"] + [f"{shapes.peer.base}/users/v{i}" for i in range(49)]
    mentions = [{"type": "Mention", "href": uri, "name": "@someone"} for uri in mentioned]
    with caplog.at_level(logging.INFO, logger="federation.remote.limits"):
        create = await shapes.deliver("mastodon_create_note.json", changes=_note_changes(
            shapes, "100", attachment=attachments, tag=hashtags + mentions))

    # Then it is stored with the first 16 attachments, 50 hashtags and 50 mentions, in order
    assert await shapes.state(create) == (InboxState.done, None)
    note = await shapes.stored(create["object"]["id"])
    assert [m["url"] for m in note.attachments] == [m["url"] for m in attachments[:LIMITS.object_max_attachments]]
    assert await shapes.tags(note) == sorted(f"ward{i}" for i in range(LIMITS.object_max_tags))
    assert sorted(await shapes.mentioned(note)) == [f"{a}/users/alice", f"{a}/users/bob"]
    carol = await shapes.a.actor("carol")
    assert not await shapes.scalars(select(Notification).where(Notification.recipient_id == carol.id))
    # And each cut is logged
    logged = " ".join(record.getMessage() for record in caplog.records)
    for kept, what in ((16, "attachments"), (50, "hashtags"), (50, "mentions")):
        assert f"kept the first {kept} of its 100 {what}" in logged, logged


@pytest.mark.parametrize("name, stored", [
    ("#InfectionControl", "infectioncontrol"),
    ("#ward_4", "ward_4"),
    ("#Ünïcode", "ünïcode"),
    ("#हिन्दी", "हिन्दी"),  # combining marks
    ("#mid·dot", "mid·dot"),
    ("#", None),
    ("#two words", None),
    ("#" + "a" * 500, None),
    ("#bad\x00tag", None),
    ("#tab\ttag", None),
    ("#12345", None),
    ("#_", None),
    ("#·lead", None),
    ("#trail·", None),
    ("#hyphen-tag", None),
    ("#emoji😀", None),
])
def test_hashtag_names_follow_mastodons_rule(name, stored):
    assert hashtag_name(name) == stored


async def test_invalid_hashtag_names_are_dropped_and_not_counted(shapes):
    # When a note arrives with invalid hashtags first, then valid ones
    invalid = ["#", "#two words", "#" + "a" * 500, "#bad\x00tag", "#12345", "#hyphen-tag"] * 10
    valid = ["#ward_4", "#Ünïcode", "#mid·dot"]
    tags = [{"type": "Hashtag", "name": name, "href": f"{shapes.peer.base}/tags/x"} for name in invalid + valid]
    create = await shapes.deliver("mastodon_create_note.json", changes=_note_changes(shapes, "tags", tag=tags))

    # Then only the valid ones are stored: the 60 invalid ones did not use up the cap of 50
    note = await shapes.stored(create["object"]["id"])
    assert await shapes.tags(note) == sorted(["ward_4", "ünïcode", "mid·dot"])


async def test_content_over_the_cap_is_refused_and_not_retried(shapes):
    # When one note arrives with content of exactly the cap, and one with a character more
    cap = LIMITS.object_max_content_chars
    at_cap = await shapes.deliver("mastodon_create_note.json", changes=_note_changes(
        shapes, "at-cap", content="x" * cap, contentMap=None))
    over = await shapes.deliver("mastodon_create_note.json", changes=_note_changes(
        shapes, "over-cap", content="x" * (cap + 1), contentMap=None))

    # Then the first is stored, and the second acknowledged, ignored with the reason, not stored
    assert await shapes.state(at_cap) == (InboxState.done, None)
    state, reason = await shapes.state(over)
    assert state is InboxState.ignored and f"over the limit of {cap}" in reason, reason
    assert await shapes.scalar(select(Object).where(Object.uri == over["object"]["id"])) is None
    # and it is not tried again
    shapes.a.clock.advance(hours=12)
    assert await shapes.a.step() == 0


async def test_an_edit_over_the_cap_is_refused_and_the_post_unchanged(shapes):
    # Given a stored note
    create = await shapes.deliver("mastodon_create_note.json")
    before = (await shapes.stored(create["object"]["id"])).content

    # When its author's Update brings content over the cap
    cap = LIMITS.object_max_content_chars
    update = await shapes.deliver("mastodon_update_note.json", changes={
        "object": {"content": "y" * (cap + 1), "contentMap": None}})

    # Then the edit is ignored with the reason and the note keeps its content
    state, reason = await shapes.state(update)
    assert state is InboxState.ignored and f"over the limit of {cap}" in reason, reason
    assert (await shapes.stored(create["object"]["id"])).content == before


async def test_a_fetched_parent_over_the_cap_is_not_stored_but_its_reply_is(shapes):
    # Given a parent post on the peer with content over the cap
    cap = LIMITS.object_max_content_chars
    parent = shapes.peer.serve("/users/hcarter/statuses/parent", {
        "id": f"{shapes.peer.base}/users/hcarter/statuses/parent", "type": "Note",
        "attributedTo": f"{shapes.peer.base}/users/hcarter", "content": "z" * (cap + 1),
        "to": ["https://www.w3.org/ns/activitystreams#Public"]})

    # When a reply to it arrives
    create = await shapes.deliver("mastodon_create_note.json", changes=_note_changes(shapes, "reply", inReplyTo=parent))

    # Then the reply is stored, linked by uri, and the parent is not
    assert await shapes.state(create) == (InboxState.done, None)
    assert (await shapes.stored(create["object"]["id"])).in_reply_to_uri == parent
    assert await shapes.scalar(select(Object).where(Object.uri == parent)) is None
