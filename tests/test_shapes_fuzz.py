"""Shapes seen in the wild never crash the parser or a handler.

One reader (`vocab.values.type_of`) turns any `type` into a known type or UNSUPPORTED; an
unsupported object is recorded as ignored and acknowledged, never retried. Then hypothesis
replaces fields of real-world activities (tests/fixtures/shapes) with lists, nulls, numbers,
huge strings, deep nesting and missing keys, first against the parsers alone, then through the
whole path on a real instance: a signed POST to the inbox, then the worker. The examples are
derandomized and bounded, so a run is the same every time and takes seconds.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from federation.outbox import actions
from federation.protocol.vocab.actors import ap_to_actor
from federation.protocol.vocab.parse import (
    VocabError,
    ap_to_activity,
    ap_to_activity_head,
    ap_to_object,
)
from federation.protocol.vocab.polls import ap_to_question, ap_to_vote
from federation.protocol.vocab.values import UNSUPPORTED, type_of
from federation.social.polls import new_poll
from storage.models import InboxItem, InboxState, Object, PollOption
from tests.fakepeer import fixture_keys
from tests.fuzzing import ACTIVITIES, ACTOR_PATHS, ACTORS, PATHS, load, mutated
from tests.test_real_world_shapes import KEY_INDEX, Shapes, shapes_running

FAST = settings(max_examples=400, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
THROUGH_AN_INSTANCE = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                               suppress_health_check=list(HealthCheck))


# --- the type reader ---------------------------------------------------------------------------

@pytest.mark.parametrize("value, known, expected", [
    ("Note", {"Note"}, "Note"),
    (["Note"], {"Note"}, "Note"),
    (["Note", "Thing"], {"Note"}, "Note"),
    (["Thing", "Note"], {"Note"}, "Note"),
    ("as:Note", {"Note"}, "Note"),
    ("https://www.w3.org/ns/activitystreams#Note", {"Note"}, "Note"),
    ("Thing", {"Note"}, UNSUPPORTED),
    (None, {"Note"}, UNSUPPORTED),
    (5, {"Note"}, UNSUPPORTED),
    ({"a": 1}, {"Note"}, UNSUPPORTED),
    ([], {"Note"}, UNSUPPORTED),
    ([None, 5], {"Note"}, UNSUPPORTED),
    ("", None, UNSUPPORTED),
    ("Arrive", None, "Arrive"),
    ([7, "Like"], None, "Like"),
    ("L" * 65, None, UNSUPPORTED),  # longer than any type the inbox records
])
def test_type_of_reads_any_shape_as_a_known_type_or_unsupported(value, known, expected):
    assert type_of(value, known) == expected


def test_a_missing_type_is_unsupported():
    assert type_of({}.get("type"), {"Note"}) == UNSUPPORTED


# --- the parsers alone -------------------------------------------------------------------------

DUMMY = [("https://PEER", "https://peer.example"), ("https://LOCAL", "https://local.example"),
         ("ALICE_POST_URI", "https://local.example/users/alice/statuses/1"),
         ("PUBLIC_KEY_PEM", fixture_keys(0).public_pem), ("PEER", "peer.example"), ("LOCAL", "local.example")]
DUMMY_URLS = ["https://peer.example/users/hcarter", "https://local.example/users/alice",
              "https://peer.example/notes/1", "https://other.example/x", "http://peer.example:99999/x"]
TEMPLATES = {name: load(name, DUMMY) for name in ACTIVITIES}
ACTOR_TEMPLATES = {name: load(name, DUMMY) for name in ACTORS}


def _outcome(parse, document: Any) -> str | None:
    """None if `parse` took the document, the VocabError's message if it refused it; anything
    else it raises fails the test."""
    try:
        parse(document)
    except VocabError as exc:
        return str(exc)
    return None


@FAST
@given(case=mutated(TEMPLATES, PATHS, DUMMY_URLS))
def test_activity_parsers_raise_nothing_but_vocab_error_and_agree(case):
    _, document = case
    full = _outcome(ap_to_activity, document)
    head = _outcome(ap_to_activity_head, document)
    # the inbox stores what the head parse takes, and the worker parses it whole: they must agree
    assert (head is None) == (full is None), (head, full)
    if full is None:
        activity = ap_to_activity(document)
        ap_to_vote(document.get("object"))
        assert activity.type == type_of(document.get("type"))
    embedded = document.get("object")
    if isinstance(embedded, dict):
        _outcome(ap_to_object, embedded)
        _outcome(ap_to_actor, embedded)
        ap_to_question(embedded)


@FAST
@given(case=mutated(ACTOR_TEMPLATES, ACTOR_PATHS, DUMMY_URLS))
def test_actor_parser_raises_nothing_but_vocab_error(case):
    _outcome(ap_to_actor, case[1])


# --- a real instance: unsupported types are acknowledged, recorded, never retried -------------

async def _post(shapes: Shapes, document: dict[str, Any], server: str = "mastodon") -> tuple[int, str]:
    """POST `document` to alice's instance's shared inbox, signed by the fixture server's actor."""
    key_id = shapes.load(f"{server}_actor.json")["publicKey"]["id"]
    return await shapes.peer.post(shapes.http, server, f"{shapes.a.base}/inbox", json.dumps(document).encode(),
                                  shapes.a.clock.now(), key=fixture_keys(KEY_INDEX[server]), key_id=key_id)


@pytest.fixture
async def shapes(instances, http):
    async with shapes_running(instances, http) as running:
        await running.alice_posts("Hand hygiene audit")
        running.serve("mastodon_actor.json")
        yield running


@pytest.mark.parametrize("shape", [["Note"], ["Note", "Thing"]])
async def test_a_list_valued_known_type_is_read_as_that_type(shapes, shape):
    # When a Mastodon note arrives with its type as a list
    create = await shapes.deliver("mastodon_create_note.json", changes={"object": {"type": shape}})

    # Then it is stored as a Note
    assert await shapes.state(create) == (InboxState.done, None)
    assert (await shapes.stored(create["object"]["id"])).type == "Note"


@pytest.mark.parametrize("shape", [None, 5, {"a": 1}, "Thing", [], "missing"])
async def test_an_unsupported_object_type_is_acknowledged_recorded_and_never_retried(shapes, shape):
    # When a Create arrives whose object's type is null, a number, an object, unknown or missing
    sent = shapes.load("mastodon_create_note.json")
    sent["id"] = f"{shapes.peer.base}/users/hcarter/statuses/t-{json.dumps(shape)}/activity"
    del sent["object"]["type"]
    if shape != "missing":
        sent["object"]["type"] = shape
    status, text = await _post(shapes, sent)

    # Then it is acknowledged, and recorded as ignored for its type after one attempt
    assert status == 202, text
    await shapes.a.step()
    state, reason = await shapes.state(sent)
    assert state is InboxState.ignored and "unsupported" in reason, reason

    # And it is never tried again: hours later the worker finds nothing to do, and the object's
    # id was never fetched
    shapes.a.clock.advance(hours=12)
    assert await shapes.a.step() == 0
    item = await shapes.scalar(select(InboxItem).where(InboxItem.activity_uri == sent["id"]))
    assert (item.state, item.attempts) == (InboxState.ignored, 1)
    assert not [path for method, path, *_ in shapes.peer.received if method == "GET" and "statuses" in path]
    assert await shapes.scalar(select(func.count()).select_from(Object).where(Object.local.is_(False))) == 0


@pytest.mark.parametrize("shape", [None, 5, {"a": 1}])
async def test_an_activity_of_no_readable_type_is_acknowledged_and_ignored(shapes, shape):
    # When a Like arrives whose own type is null, a number or an object
    status, text, sent = await shapes.post("mastodon_like.json", changes={"type": shape})

    # Then it is acknowledged and recorded as ignored, as unsupported
    assert status == 202, text
    await shapes.a.step()
    state, reason = await shapes.state(sent)
    assert state is InboxState.ignored and UNSUPPORTED in reason, reason


async def test_a_vote_with_a_list_valued_type_counts(shapes):
    # Given alice's poll
    async with shapes.a.fed.transaction() as session:
        item = await actions.post(shapes.a.fed, session, await shapes.a.actor("alice"), content="<p>Hand rub?</p>",
                                 poll=new_poll(["Alcohol gel", "Foam"], 3600, multiple=False, hide_totals=False))
    shapes.alice_post = item.uri

    # When a Mastodon vote arrives as a Note typed ["Note"]
    vote = await shapes.deliver("mastodon_create_vote.json", changes={"object": {"type": ["Note"]}})

    # Then it counts, and did not become a post
    assert await shapes.state(vote) == (InboxState.done, None)
    counts = await shapes.scalars(select(PollOption.votes_count).where(PollOption.object_id == item.id)
                                  .order_by(PollOption.position))
    assert counts == [0, 1]
    assert await shapes.scalar(select(func.count()).select_from(Object).where(Object.local.is_(False))) == 0


# --- a real instance: fuzzed activities through intake and the worker ---------------------------

class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
async def fuzzed(instances, http):
    """Alice's instance, every fixture server's actor known, and every fixture's post stored once
    (so fuzzed Updates, Likes and Deletes find them), and a log handler catching errors."""
    async with shapes_running(instances, http) as shapes:
        await shapes.alice_posts("Hand hygiene audit")
        for actor in ACTORS:
            shapes.serve(actor)
        gotosocial = shapes.load("gotosocial_actor.json")["id"].removeprefix(shapes.peer.base)
        shapes.peer.serve(f"{gotosocial}/main-key", shapes.load("gotosocial_key_stub.json"))
        for name in ACTIVITIES:
            if "create" in name:
                await shapes.post(name)
        await shapes.a.step()
        errors = _Errors()
        logging.getLogger("federation").addHandler(errors)
        try:
            yield shapes, errors
        finally:
            logging.getLogger("federation").removeHandler(errors)


def _templates(shapes: Shapes) -> dict[str, Any]:
    found = {name: shapes.load(name) for name in ACTIVITIES}
    for actor in ACTORS:  # an Update of each actor by itself
        document = shapes.load(actor)
        found[actor] = {"@context": document["@context"], "id": f"{document['id']}#updates/1", "type": "Update",
                        "actor": document["id"], "object": document}
    return found


_counter = iter(range(1_000_000))


@THROUGH_AN_INSTANCE
@given(data=st.data())
async def test_fuzzed_activities_are_answered_and_handled_without_a_crash(fuzzed, http, data):
    shapes, errors = fuzzed
    templates = _templates(shapes)
    urls = [shapes.alice_post, f"{shapes.a.base}/users/alice", f"{shapes.peer.base}/users/hcarter",
            f"{shapes.peer.base}/notes/unknown", f"{shapes.a.base}/users/nobody"]
    # keys are not fuzzed here (a broken key only stops its own actor's requests: see test_actor_keys)
    paths = PATHS + [("object", *path) for path in ACTOR_PATHS if "publicKey" not in path]
    name, document = data.draw(mutated(templates, paths, urls))
    n = next(_counter)
    if isinstance(document.get("id"), str):
        document["id"] += f"-fuzz{n}"
    if "create" in name and isinstance(document.get("object"), dict) and isinstance(document["object"].get("id"), str):
        document["object"]["id"] += f"-fuzz{n}"
    server = name.split("_", 1)[0]

    # When the fuzzed activity is POSTed, signed by the actor it names
    status, text = await _post(shapes, document, server)
    # Then it gets an answer other than a server error
    assert status in (202, 400, 401, 403, 413), (status, text, name)

    # And the worker handles it (done, ignored, or waiting out a peer) without failing
    await shapes.a.step()
    assert not errors.records, [r.getMessage() for r in errors.records]
    failed = await shapes.scalar(select(func.count()).select_from(InboxItem).where(InboxItem.state == InboxState.failed))
    assert failed == 0, name


# --- deep nesting at intake --------------------------------------------------------------------

async def test_a_body_nested_deeper_than_json_can_read_is_a_400(shapes):
    # When a Like arrives whose body nests arrays 3000 deep (past orjson's and json's limits)
    like = shapes.load("mastodon_like.json")
    head = json.dumps({**like, "object": None})[:-1]
    body = head.replace('"object": null', '"object": ' + "[" * 3000 + "]" * 3000) + "}"
    key_id = shapes.load("mastodon_actor.json")["publicKey"]["id"]
    status, text = await shapes.peer.post(shapes.http, "mastodon", f"{shapes.a.base}/inbox", body.encode(),
                                          shapes.a.clock.now(), key=fixture_keys(KEY_INDEX["mastodon"]), key_id=key_id)

    # Then it is refused as nested too deep (the one JSON bound), not a server error
    assert status == 400 and "nested more than" in text, text


async def test_activities_embedded_in_activities_too_deep_are_a_400(shapes):
    # When an Undo of an Undo of ... (10 deep: within the JSON bound, past the embedding one) arrives
    like = shapes.load("mastodon_like.json")
    document = like
    for n in range(10):
        document = {"id": f"{like['id']}/undo/{n}", "type": "Undo", "actor": like["actor"], "object": document}
    status, text = await _post(shapes, document)

    # Then it is refused at the boundary, with the reason
    assert status == 400 and "more than 8 deep" in text, text


# --- values at the edges of what the database keeps ---------------------------------------------

async def test_values_beyond_what_the_database_keeps_are_read_or_refused_at_the_boundary(shapes):
    peer = shapes.peer.base
    # an activity id longer than any id the database keeps is refused at the door
    status, text = await _post(shapes, {**shapes.load("mastodon_like.json"), "id": f"{peer}/users/hcarter/{'x' * 2100}"})
    assert status == 400 and "needs an absolute http(s) 'id'" in text, text

    # a language tag that is not one, a date past what ids can hold, a date that is no time in
    # UTC, and links longer than the database keeps: the note is stored without them
    changes = {"id": f"{peer}/users/hcarter/statuses/edges/activity",
               "object": {"id": f"{peer}/users/hcarter/statuses/edges", "contentMap": {"x" * 40: "<p>hi</p>"},
                          "content": None, "published": "9999-12-31T23:59:59Z", "updated": "0001-01-01T00:00:00+05:00",
                          "url": f"{peer}/{'u' * 2100}", "inReplyTo": f"{peer}/{'r' * 2100}"}}
    create = await shapes.deliver("mastodon_create_note.json", changes=changes)
    assert await shapes.state(create) == (InboxState.done, None)
    note = await shapes.stored(changes["object"]["id"])
    assert (note.language, note.url, note.in_reply_to_uri, note.updated) == (None, None, None, None)
    assert note.published == shapes.a.clock.now() and "hi" in note.content

    # an actor whose username is longer than the database keeps cannot update itself to it
    actor = {**shapes.load("mastodon_actor.json"), "preferredUsername": "h" * 300}
    update = {"@context": actor["@context"], "id": f"{actor['id']}#updates/long", "type": "Update",
              "actor": actor["id"], "object": actor}
    status, text = await _post(shapes, update)
    assert status == 400 and "username longer than 255" in text, text


async def test_a_post_fetched_by_reference_of_no_readable_type_is_ignored_not_retried(shapes):
    # Given a document on the peer whose type is null
    post = shapes.peer.serve("/users/hcarter/statuses/typeless", {
        "id": f"{shapes.peer.base}/users/hcarter/statuses/typeless", "type": None,
        "attributedTo": f"{shapes.peer.base}/users/hcarter", "content": "<p>?</p>"})

    # When a Create names it by reference
    sent = {**shapes.load("mastodon_create_note.json"), "object": post}
    status, text = await _post(shapes, sent)
    assert status == 202, text
    await shapes.a.step()

    # Then it is ignored as unsupported, and never fetched again
    state, reason = await shapes.state(sent)
    assert state is InboxState.ignored and "unsupported object type" in reason, reason
    shapes.a.clock.advance(hours=12)
    assert await shapes.a.step() == 0
    assert len([path for method, path, *_ in shapes.peer.received if method == "GET" and path.endswith("typeless")]) == 1
