"""Every origin and ownership check on the way in, each with a test that fails without it.

An actor speaks only for its own origin, and a handler acts only on what the actor owns. The
inbox refuses what it can see from the activity alone (403, nothing stored); the handlers refuse
what needs the database (ignored, with the reason); documents fetched from peers must live
where they were fetched and belong to that host. Where a check stands twice (intake and
handler), the handler's is tested on a row put in the queue past intake (tests/intake.py).

Two fake peers on loopback are two origins: M (mallory, eve) and B (bob).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from federation.outbox import actions, relations
from federation.inbox.intake import FORWARDED
from federation.peers import decisions
from federation.remote.actors import ActorError, upsert_remote_actor
from federation.social.polls import new_poll
from federation.remote.resolve import RemoteError, resolve_actor
from federation.protocol.vocab.actors import ap_to_actor
from federation.protocol.vocab.values import VocabError
from storage.models import (
    Actor,
    Announce,
    Base,
    Follow,
    FollowState,
    InboxState,
    Like,
    Object,
    PeerState,
    PollVote,
    Visibility,
)
from tests.fakepeer import FakePeer, Redirect, activity, fixture_keys
from tests.intake import inbox_item, store_unchecked

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _note(peer: FakePeer, author: str, n: str, **extra) -> dict:
    return {"id": f"{peer.base}/users/{author}/statuses/{n}", "type": "Note",
            "attributedTo": f"{peer.base}/users/{author}", "content": f"<p>{author} {n}</p>", "to": [PUBLIC], **extra}


@pytest.fixture
async def world(instances, http):
    """A with alice; mallory and eve on M, bob on B, all known to A; a note of each of eve and
    bob stored on A."""
    a = await instances.start()
    await a.add_user("alice")
    m, b = await FakePeer().start(), await FakePeer().start()
    m.add_actor("mallory", key=0)
    m.add_actor("eve", key=2)
    b.add_actor("bob", key=1)
    for peer, name in ((m, "mallory"), (m, "eve"), (b, "bob")):
        create = activity(peer, name, "Create", _note(peer, name, "1"), "first")
        assert (await peer.post(http, name, f"{a.base}/inbox", create, a.clock.now()))[0] == 202
    await a.step()
    yield World(a, m, b, http)
    await m.stop()
    await b.stop()


class World:
    def __init__(self, a, m, b, http) -> None:
        self.a, self.m, self.b, self.http = a, m, b, http

    async def send(self, peer: FakePeer, name: str, act: dict) -> tuple[int, str]:
        return await peer.post(self.http, name, f"{self.a.base}/inbox", act, self.a.clock.now())

    async def refused(self, peer: FakePeer, name: str, act: dict, reason: str) -> None:
        """The inbox answers 403 with `reason`, and nothing is stored."""
        before = await self.counts()
        status, text = await self.send(peer, name, act)
        assert status == 403 and reason in text, (status, text)
        assert await self.counts() == before

    async def ignored(self, act: dict, reason: str) -> None:
        """The worker recorded the activity as ignored, with `reason`."""
        await self.a.step()
        item = await inbox_item(self.a, act["id"])
        assert item.state is InboxState.ignored and reason in (item.last_error or ""), (item.state, item.last_error)

    async def counts(self) -> dict[str, int]:
        async with self.a.db.sessions() as session:
            return {name: await session.scalar(select(func.count()).select_from(table))
                    for name, table in Base.metadata.tables.items() if name != "peers"}

    async def scalar(self, query):
        async with self.a.db.sessions() as session:
            return await session.scalar(query)

    async def object(self, uri: str) -> Object | None:
        return await self.scalar(select(Object).where(Object.uri == uri))


# --- intake (federation/inbox/intake.py) --------------------------------------------------------------

async def test_an_activity_id_on_another_host_is_refused(world):
    w = world
    like = {**activity(w.m, "mallory", "Like", f"{w.b.base}/users/bob/statuses/1"),
            "id": f"{w.b.base}/users/bob/likes/1"}
    await w.refused(w.m, "mallory", like, "is not on its actor's host")


async def test_a_create_of_a_post_with_an_id_on_another_host_is_refused(world):
    # attributed to mallory herself, but its id is on B: she would be writing B's namespace
    w = world
    forged = _note(w.m, "mallory", "x", id=f"{w.b.base}/users/bob/statuses/planted")
    await w.refused(w.m, "mallory", activity(w.m, "mallory", "Create", forged, "planted"), "attributed to")
    assert await w.object(forged["id"]) is None


async def test_a_forwarded_create_is_kept_with_its_post_as_its_origin_serves_it(world):
    # Given carl on M, unknown to A, whose reply M serves; B forwards his Create of it (as
    # Mastodon forwards a reply to the followers of the post it answers), with words he never wrote
    w = world
    w.m.add_actor("carl", key=3)
    reply = _note(w.m, "carl", "7", content="<p>carl's own words</p>", inReplyTo=f"{w.b.base}/users/bob/statuses/1")
    w.m.serve("/users/carl/statuses/7", reply)
    forwarded = activity(w.m, "carl", "Create", {**reply, "content": "<p>forged words</p>"}, "fwd")
    # When B's bob signs it to A, Then A takes it (202)
    status, text = await w.send(w.b, "bob", forwarded)
    assert status == 202, text
    # And its post is what M serves, carl's, not what the body said
    await w.a.step()
    stored = await w.object(reply["id"])
    assert stored is not None and stored.content == "<p>carl's own words</p>"
    assert (await inbox_item(w.a, forwarded["id"] + FORWARDED)).state is InboxState.done
    # But a forwarded Create of a post M says is not carl's is ignored by the worker
    w.m.serve("/users/carl/statuses/8", _note(w.m, "eve", "8", id=f"{w.m.base}/users/carl/statuses/8"))
    claimed = activity(w.m, "carl", "Create", _note(w.m, "carl", "8"), "fwd8")
    assert (await w.send(w.b, "bob", claimed))[0] == 202
    await w.ignored({"id": claimed["id"] + FORWARDED}, "is attributed to")
    assert await w.object(f"{w.m.base}/users/carl/statuses/8") is None


async def test_a_forward_never_stands_in_for_the_authors_own_delivery(world):
    # Given carl's followers-only reply, which M does not serve to A (404)
    w = world
    w.m.add_actor("carl", key=3)
    private = _note(w.m, "carl", "9", to=[f"{w.m.base}/users/carl/followers"])
    create = activity(w.m, "carl", "Create", private, "own")
    # When B forwards it first, Then A takes it, and gives up on it: it cannot be fetched
    assert (await w.send(w.b, "bob", create))[0] == 202
    await w.a.step()
    assert await w.object(private["id"]) is None
    assert (await inbox_item(w.a, create["id"] + FORWARDED)).state is InboxState.ignored  # not tried again
    # And when carl's own server delivers it, signed by him, it is no duplicate: it is stored
    status, text = await w.send(w.m, "carl", create)
    assert status == 202, text
    await w.a.step()
    assert (await w.object(private["id"])) is not None
    assert (await inbox_item(w.a, create["id"])).state is InboxState.done


async def test_a_forward_of_an_actor_this_instance_does_not_federate_with_or_of_its_own_is_refused(world):
    # Given a peer the admin blocked, with an actor A knows
    w = world
    blocked = await FakePeer().start()
    try:
        blocked.add_actor("ivan", key=4)
        ivan = await resolve_actor(w.a.fed, f"{blocked.base}/users/ivan")
        async with w.a.db.sessions.begin() as session:
            await decisions.decide(session, blocked.authority, PeerState.blocked, by="test", at=w.a.clock.now())
        await w.a.fed.reload_policy()
        # When M forwards a Create by ivan, and one by alice, A's own user, Then both are refused
        for actor, base in ((ivan.uri, blocked.base), (f"{w.a.base}/users/alice", w.a.base)):
            note = {"id": f"{base}/notes/fwd", "type": "Note", "attributedTo": actor, "content": "<p>x</p>",
                    "to": [PUBLIC]}
            create = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{base}/activities/fwd",
                      "type": "Create", "actor": actor, "object": note}
            before = await w.counts()
            status, text = await w.send(w.m, "mallory", create)
            assert status == 403 and "not a peer this instance federates with" in text, (status, text)
            assert await w.counts() == before
    finally:
        await blocked.stop()


async def test_an_update_of_another_actor_is_refused_at_intake_and_in_the_worker(world):
    # Given mallory sends an Update of eve's actor (same host) with a new name
    w = world
    eve = {**w.m.actors["eve"], "name": "Eve (hijacked)"}
    await w.refused(w.m, "mallory", activity(w.m, "mallory", "Update", eve, "hijack"), "cannot update the actor")
    # And the same Update, put in the queue past intake, is ignored by the handler
    queued = activity(w.m, "mallory", "Update", eve, "hijack-queued")
    await store_unchecked(w.a, queued)
    await w.ignored(queued, "cannot update the actor")
    assert await w.scalar(select(Actor.display_name).where(Actor.uri == eve["id"])) == "Eve"


async def test_an_undo_of_another_actors_activity_is_refused(world):
    w = world
    follow = activity(w.m, "eve", "Follow", f"{w.a.base}/users/alice", "f")
    assert (await w.send(w.m, "eve", follow))[0] == 202
    await w.a.step()
    await w.refused(w.m, "mallory", activity(w.m, "mallory", "Undo", follow, "u"), "cannot undo")


async def test_a_delete_of_an_object_on_another_host_is_refused(world):
    w = world
    bob_note = f"{w.b.base}/users/bob/statuses/1"
    await w.refused(w.m, "mallory", activity(w.m, "mallory", "Delete", bob_note, "d"), "on another host")
    assert (await w.object(bob_note)).deleted_at is None


# --- handlers (federation/handlers, federation/inbox/worker.py) ----------------------------------

async def test_a_delete_of_a_same_host_post_of_someone_else_is_ignored_by_the_handler(world):
    w = world
    eve_note = f"{w.m.base}/users/eve/statuses/1"
    queued = activity(w.m, "mallory", "Delete", eve_note, "del-queued")
    await store_unchecked(w.a, queued)
    await w.ignored(queued, "cannot delete")
    assert (await w.object(eve_note)).deleted_at is None


async def test_an_update_of_a_post_stored_as_someone_elses_is_ignored(world):
    # mallory claims eve's note (same host) as hers: intake sees her as its author; the stored row does not
    w = world
    eve_note = _note(w.m, "mallory", "1", id=f"{w.m.base}/users/eve/statuses/1", content="<p>mallory was here</p>")
    update = activity(w.m, "mallory", "Update", eve_note, "edit-eve")
    assert (await w.send(w.m, "mallory", update))[0] == 202
    await w.ignored(update, "cannot edit")
    assert "mallory was here" not in (await w.object(eve_note["id"])).content


async def test_a_create_by_reference_of_someone_elses_post_is_ignored(world):
    # mallory announces eve's post, served by M, as her own Create
    w = world
    post = w.m.serve("/users/eve/statuses/2", _note(w.m, "eve", "2"))
    create = activity(w.m, "mallory", "Create", post, "ref")
    assert (await w.send(w.m, "mallory", create))[0] == 202
    await w.ignored(create, "is attributed to")
    assert await w.object(post) is None


async def test_undo_removes_only_the_actors_own_follow_like_and_boost(world):
    # Given eve follows alice, and likes and boosts alice's post
    w = world
    async with w.a.db.sessions.begin() as session:
        post = await actions.post(w.a.fed, session, await w.a.actor("alice"), content="<p>alice</p>")
    follow = activity(w.m, "eve", "Follow", f"{w.a.base}/users/alice", "f")
    like = activity(w.m, "eve", "Like", post.uri, "l")
    boost = {**activity(w.m, "eve", "Announce", post.uri, "b"), "to": [PUBLIC]}
    for act in (follow, like, boost):
        assert (await w.send(w.m, "eve", act))[0] == 202
    await w.a.step()

    # When mallory sends Undos naming eve's activities by id only
    for n, act in enumerate((follow, like, boost)):
        undo = activity(w.m, "mallory", "Undo", act["id"], f"u{n}")
        assert (await w.send(w.m, "mallory", undo))[0] == 202
        await w.ignored(undo, "nothing to undo")

    # Then eve's follow, like and boost stand
    assert await w.scalar(select(Follow.state).where(Follow.uri == follow["id"])) is FollowState.accepted
    assert await w.scalar(select(func.count()).select_from(Like)) == 1
    assert await w.scalar(select(func.count()).select_from(Announce)) == 1


async def test_only_the_followee_accepts_a_follow(world):
    # Given alice asked to follow bob@B
    w = world
    async with w.a.db.sessions.begin() as session:
        bob = await session.scalar(select(Actor).where(Actor.uri == w.b.actors["bob"]["id"]))
        row = await relations.follow(w.a.fed, session, await w.a.actor("alice"), bob)
    follow_uri = row.uri

    # When mallory accepts it, by its id and as a re-built Follow with another id
    by_id = activity(w.m, "mallory", "Accept", follow_uri, "acc")
    rebuilt = activity(w.m, "mallory", "Accept", {"id": f"{w.m.base}/follows/x", "type": "Follow",
                                                   "actor": f"{w.a.base}/users/alice", "object": w.b.actors["bob"]["id"]},
                       "acc-rebuilt")
    for act in (by_id, rebuilt):
        assert (await w.send(w.m, "mallory", act))[0] == 202
        await w.ignored(act, "was not asked for")

    # Then the follow is still pending
    assert await w.scalar(select(Follow.state).where(Follow.uri == follow_uri)) is FollowState.pending


async def test_a_follow_of_something_that_is_not_a_local_actor_is_ignored(world):
    w = world
    # a remote actor
    follow = activity(w.m, "mallory", "Follow", w.b.actors["bob"]["id"], "remote")
    assert (await w.send(w.m, "mallory", follow))[0] == 202
    await w.ignored(follow, "is not an actor on this server")
    # a row under our own address that is not a local actor (one that must never exist)
    ghost = f"{w.a.base}/users/ghost"
    async with w.a.db.sessions.begin() as session:
        session.add(Actor(uri=ghost, local=False, type="Person", username="ghost", domain=w.a.urls.authority,
                          inbox=f"{ghost}/inbox", key_id=f"{ghost}#main-key", public_key_pem="x",
                          published=w.a.clock.now()))
    follow = activity(w.m, "mallory", "Follow", ghost, "ghost")
    assert (await w.send(w.m, "mallory", follow))[0] == 202
    await w.ignored(follow, "no local actor")
    assert await w.scalar(select(func.count()).select_from(Follow)) == 0


async def test_activities_of_a_deleted_actor_or_a_peer_blocked_after_arrival_are_ignored(world):
    w = world
    # eve deletes herself; a Like of hers put in the queue afterwards is ignored
    assert (await w.send(w.m, "eve", activity(w.m, "eve", "Delete", w.m.actors["eve"]["id"], "self")))[0] == 202
    await w.a.step()
    like = activity(w.m, "eve", "Like", f"{w.b.base}/users/bob/statuses/1", "late")
    await store_unchecked(w.a, like)
    await w.ignored(like, "unknown or deleted actor")
    # B is blocked after bob's Like arrived
    bob_like = activity(w.b, "bob", "Like", f"{w.m.base}/users/mallory/statuses/1", "pre-block")
    assert (await w.send(w.b, "bob", bob_like))[0] == 202
    w.a.fed.policy.mode = "allowlist"
    try:
        await w.ignored(bob_like, "was blocked after this arrived")
    finally:
        w.a.fed.policy.mode = "open"
    assert await w.scalar(select(func.count()).select_from(Like)) == 0


async def test_a_vote_counts_only_on_a_poll_the_voter_can_see_and_keeps_only_its_own_hosts_id(world):
    # Given alice's poll addressed to nobody (direct), and a public one
    w = world
    alice = await w.a.actor("alice")
    async with w.a.fed.transaction() as session:
        hidden = await actions.post(w.a.fed, session, alice, content="<p>Hidden?</p>", visibility=Visibility.direct,
                                   poll=new_poll(["Yes", "No"], 3600, multiple=False, hide_totals=False))
        public = await actions.post(w.a.fed, session, alice, content="<p>Gel or foam?</p>",
                                   poll=new_poll(["Gel", "Foam"], 3600, multiple=False, hide_totals=False))

    def answer(poll, n: str, vote_id: str) -> dict:
        return activity(w.m, "mallory", "Create", {"id": vote_id, "type": "Answer", "name": "Yes" if poll is hidden else "Gel",
                                                   "attributedTo": w.m.actors["mallory"]["id"], "inReplyTo": poll.uri}, n)

    # When mallory votes on the hidden one, Then it is not counted
    vote = answer(hidden, "v1", f"{w.m.base}/users/mallory/votes/1")
    assert (await w.send(w.m, "mallory", vote))[0] == 202
    await w.ignored(vote, "is not a poll here")
    # When she votes on the public one with a vote id on B, Then it counts without that id
    vote = answer(public, "v2", f"{w.b.base}/users/bob/votes/1")
    assert (await w.send(w.m, "mallory", vote))[0] == 202
    await w.a.step()
    assert [(v.choice, v.uri) for v in await _votes(w, public)] == [(0, None)]


async def _votes(w: World, poll: Object) -> list[PollVote]:
    async with w.a.db.sessions() as session:
        return list(await session.scalars(select(PollVote).where(PollVote.object_id == poll.id)))


# --- fetched documents (federation/remote/resolve.py, federation/remote/actors.py) -----------------------------

async def test_a_fetched_post_must_live_where_it_was_fetched_and_belong_to_that_host(world):
    w = world
    # M serves, at its own address, a post whose id is on B
    moved = w.m.serve("/notes/moved", _note(w.b, "bob", "planted"))
    # and a post with its own id whose author is on B
    foreign = w.m.serve("/notes/foreign", {**_note(w.b, "bob", "x"), "id": f"{w.m.base}/notes/foreign"})
    for n, uri in enumerate((moved, foreign)):
        boost = {**activity(w.m, "mallory", "Announce", uri, f"b{n}"), "to": [PUBLIC]}
        assert (await w.send(w.m, "mallory", boost))[0] == 202
        await w.ignored(boost, "does not belong to its host")
    assert await w.object(f"{w.b.base}/users/bob/statuses/planted") is None
    assert await w.object(foreign) is None


async def test_our_own_addresses_are_never_fetched(world):
    w = world
    # a reply whose parent is a local post that does not exist
    missing = f"{w.a.base}/users/alice/statuses/999"
    create = activity(w.m, "mallory", "Create", _note(w.m, "mallory", "2", inReplyTo=missing), "reply")
    assert (await w.send(w.m, "mallory", create))[0] == 202
    await w.a.step()
    assert (await w.object(create["object"]["id"])).in_reply_to_uri == missing
    # an actor at a local address that does not exist
    with pytest.raises(RemoteError, match="no local actor"):
        await resolve_actor(w.a.fed, f"{w.a.base}/users/ghost")
    assert not [path for method, path in w.a.received if method == "GET" and ("999" in path or "ghost" in path)]


async def test_an_actor_document_must_be_on_the_host_asked_and_the_host_that_answered(world):
    w = world
    bob = w.b.actors["bob"]
    # M's address redirects to B, which serves an actor whose id is on M
    w.b.serve("/users/posing", {**bob, "id": f"{w.m.base}/users/posing"})
    w.m.serve("/users/posing", Redirect(f"{w.b.base}/users/posing"))
    with pytest.raises(RemoteError, match="claims the foreign id"):
        await resolve_actor(w.a.fed, f"{w.m.base}/users/posing")
    # M's address redirects to B's real actor (whose id is on B, not M)
    w.m.serve("/users/alias", Redirect(bob["id"]))
    with pytest.raises(RemoteError, match="claims the foreign id"):
        await resolve_actor(w.a.fed, f"{w.m.base}/users/alias")
    assert await w.scalar(select(func.count()).select_from(Actor).where(Actor.uri.like(f"{w.m.base}/users/%"))) == 2


async def test_a_local_actor_is_never_overwritten_from_a_document(world):
    w = world
    alice = await w.a.actor("alice")
    forged = ap_to_actor({"id": alice.uri, "type": "Person", "preferredUsername": "alice", "name": "Not Alice",
                          "inbox": f"{alice.uri}/inbox",
                          "publicKey": {"id": alice.key_id, "owner": alice.uri, "publicKeyPem": alice.public_key_pem}})
    with pytest.raises(ActorError, match="local actor"):
        async with w.a.db.sessions.begin() as session:
            await upsert_remote_actor(session, forged, w.a.clock.now())
    assert (await w.a.actor("alice")).display_name != "Not Alice"


@pytest.mark.parametrize("username", ["alice@good-hospital.example", "=HYPERLINK(\"http://x\")", "<b>bob</b>",
                                      "-lead", "trail.", "with space"])
def test_a_remote_username_that_could_pass_for_another_handle_or_a_formula_is_refused(username):
    document = {"id": "https://peer.example/users/x", "type": "Person", "preferredUsername": username,
                "inbox": "https://peer.example/users/x/inbox",
                "publicKey": {"id": "https://peer.example/users/x#key", "owner": "https://peer.example/users/x",
                              "publicKeyPem": "PEM"}}
    with pytest.raises(VocabError, match="username"):
        ap_to_actor(document)
    for fine in ("wound-care", "Dr.Smith_2", "a"):
        assert ap_to_actor(document | {"preferredUsername": fine}).preferred_username == fine


# --- who signed (federation/protocol/authn.py) -----------------------------------------------------------

async def test_a_bad_signature_on_first_contact_fetches_the_key_once(world):
    # Given carol@M, whom A has never seen
    w = world
    w.m.add_actor("carol", key=3)
    like = activity(w.m, "carol", "Like", f"{w.b.base}/users/bob/statuses/1", "bad")

    # When she signs with a key that is not hers
    status, _ = await w.m.post(w.http, "carol", f"{w.a.base}/inbox", like, w.a.clock.now(), key=fixture_keys(4))

    # Then the request is refused, and her key was fetched once: a key fetched just now is not
    # refetched, so a forger cannot make A fetch twice per request
    assert status == 401
    assert [p for method, p, *_ in w.m.received if method == "GET" and p == "/users/carol"] == ["/users/carol"]


async def test_a_request_signed_for_another_host_is_refused(world):
    # Given mallory signed a Like for B's inbox (its Host header is B's)
    w = world
    like = activity(w.m, "mallory", "Like", f"{w.b.base}/users/bob/statuses/1", "replayed")
    body = json.dumps(like).encode()
    headers = w.m.signed_headers("mallory", f"{w.b.base}/inbox", body, w.a.clock.now())
    assert headers["Host"] == w.b.authority

    # When the same bytes are replayed to A's inbox
    async with w.http.post(f"{w.a.base}/inbox", data=body, headers=headers) as response:
        status, text = response.status, await response.text()

    # Then A refuses them: the signature names another host
    assert status == 401 and "does not match this instance" in text, text
    assert await w.scalar(select(func.count()).select_from(Like)) == 0
