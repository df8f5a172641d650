"""Quote activities from a peer (FEP-044f), signed by a fake peer and handled by a real instance:
the answer to a local post's QuoteRequest (Accept with a QuoteAuthorization, or Reject), a
revocation (Delete of the authorisation), and a peer's QuoteRequest for a local post.

Guards: only the quoted author answers; an authorisation must live on her server; a
revocation comes from her alone; a QuoteRequest's quoting post must live on the requester's
server; a revoked quote is not authorised again by a new request.
"""

from __future__ import annotations

from federation.outbox import actions
from federation.outbox import quotes as outbox_quotes
from federation.protocol.vocab import PUBLIC
from storage.models import InboxState, Object, Quote, QuoteState, Visibility
from tests.handler_helpers import Scene


async def _quote_zeds_post(scene: Scene) -> tuple[Object, dict]:
    """alice quotes zed's post (which says nothing of who may quote it): pending, and the
    QuoteRequest queued to zed."""
    note = scene.note("zed", "1")
    await scene.send("zed", "Create", note)
    await scene.run()
    quoted = await scene.one(Object, Object.uri == note["id"])
    async with scene.a.fed.transaction() as session:
        post = await actions.post(scene.a.fed, session, await scene.a.actor("alice"), content="<p>see</p>", quote=quoted)
    [(inbox, request)] = await scene.queued("QuoteRequest")
    assert inbox.startswith(scene.peer.base)  # zed's server (its shared inbox)
    assert (request["actor"], request["object"], request["instrument"]) == (
        (await scene.a.actor("alice")).uri, note["id"], post.uri)
    return post, request


def _embedded(request: dict) -> dict:
    return {key: request[key] for key in ("id", "type", "actor", "object", "instrument")}


async def _state(scene: Scene, post: Object) -> QuoteState:
    return (await scene.one(Quote, Quote.object_id == post.id)).state


async def test_the_quoted_author_accepts_then_revokes(scene):
    post, request = await _quote_zeds_post(scene)
    assert await _state(scene, post) is QuoteState.pending
    approval = f"{scene.peer.base}/users/zed/quote_authorizations/1"
    # When mallory, who is not the quoted author, accepts it, Then nothing changes
    forged = await scene.send("mallory", "Accept", _embedded(request), "f", result=approval.replace("zed", "mallory"))
    # And zed's Accept naming an authorisation on another server is refused
    elsewhere = await scene.send("zed", "Accept", _embedded(request), "e", result="https://other.example/qa/1")
    await scene.run()
    assert (await scene.outcome(forged))[0] is InboxState.ignored
    assert (await scene.outcome(elsewhere))[0] is InboxState.ignored
    assert await _state(scene, post) is QuoteState.pending
    # When zed accepts it, naming the request by its id only
    accept = await scene.send("zed", "Accept", request["id"], "1", result=approval)
    await scene.run()
    # Then the quote is accepted, and alice's post goes out again with the authorisation
    assert await scene.outcome(accept) == (InboxState.done, None)
    assert await _state(scene, post) is QuoteState.accepted
    updates = [doc for _, doc in await scene.queued("Update") if doc["object"]["id"] == post.uri]
    assert updates and updates[-1]["object"]["quoteAuthorization"] == approval
    # When mallory deletes the authorisation, Then it stands; when zed does, it is revoked
    await scene.send("mallory", "Delete", approval, "m")
    await scene.run()
    assert await _state(scene, post) is QuoteState.accepted
    await scene.send("zed", "Delete", approval, "d")
    await scene.run()
    assert await _state(scene, post) is QuoteState.revoked


async def test_the_quoted_author_rejects(scene):
    post, request = await _quote_zeds_post(scene)
    reject = await scene.send("zed", "Reject", _embedded(request))
    await scene.run()
    assert await scene.outcome(reject) == (InboxState.done, None)
    assert await _state(scene, post) is QuoteState.rejected


async def test_a_peers_quote_request_is_answered_by_the_local_posts_policy(scene):
    # Given alice's public post, and one only she may quote
    open_post = await scene.local_post(content="<p>open</p>")
    async with scene.a.fed.transaction() as session:
        closed = await actions.post(scene.a.fed, session, await scene.a.actor("alice"), content="<p>closed</p>",
                                    quote_policy="nobody")
    zed_post = f"{scene.peer.base}/users/zed/statuses/9"
    # When zed asks to quote each
    for n, target in (("1", open_post), ("2", closed)):
        await scene.send("zed", "QuoteRequest", target.uri, n, instrument=zed_post if n == "1" else zed_post + "0")
    # And mallory asks for a post that is not on her server
    stolen = await scene.send("mallory", "QuoteRequest", open_post.uri, "3", instrument="https://other.example/n/1")
    await scene.run()
    assert (await scene.outcome(stolen))[0] is InboxState.ignored
    # Then zed gets an Accept carrying an authorisation for the first, and a Reject for the second
    [(_, accept)] = await scene.queued("Accept")
    [(_, reject)] = await scene.queued("Reject")
    assert accept["object"]["instrument"] == zed_post and accept["object"]["type"] == "QuoteRequest"
    assert accept["result"].startswith(f"{scene.a.base}/users/alice/quote_authorizations/")
    assert reject["object"]["object"] == closed.uri
    # And when zed's quoting post arrives, it shows as accepted
    note = scene.note("zed", "9", quote=open_post.uri, quoteAuthorization=accept["result"], to=(PUBLIC,))
    await scene.send("zed", "Create", note, "9")
    await scene.run()
    stored = await scene.one(Object, Object.uri == zed_post)
    quote = await scene.one(Quote, Quote.uri == zed_post)
    assert (quote.object_id, quote.state) == (stored.id, QuoteState.accepted)
    # When alice revokes it, Then a Delete of the authorisation goes to zed
    async with scene.a.fed.transaction() as session:
        from_db = await session.get(Quote, quote.id)
        assert await outbox_quotes.revoke(scene.a.fed, session, await scene.a.actor("alice"), from_db)
    deletes = [doc for inbox, doc in await scene.queued("Delete") if inbox.startswith(scene.peer.base)]
    assert [doc["object"] for doc in deletes] == [accept["result"]]
    # And a new request for the same quoting post is not authorised again
    again = await scene.send("zed", "QuoteRequest", open_post.uri, "4", instrument=zed_post)
    await scene.run()
    assert (await scene.outcome(again))[0] is InboxState.ignored


async def test_a_peers_quote_request_for_an_institution_only_post_is_not_authorised(scene):
    # Given alice's institution-only post, whose policy lets anyone quote it
    async with scene.a.fed.transaction() as session:
        secret = await actions.post(scene.a.fed, session, await scene.a.actor("alice"), content="<p>staffing</p>",
                                    local_only=True)
    # When zed asks to quote it
    await scene.send("zed", "QuoteRequest", secret.uri, "1", instrument=f"{scene.peer.base}/users/zed/statuses/9")
    await scene.run()
    # Then nothing authorises it
    assert await scene.queued("Accept") == []
    assert await scene.count(Quote, Quote.state == QuoteState.accepted) == 0


async def test_a_followers_only_quote_is_not_delivered_to_the_quoted_author(scene):
    # Given zed's post, When alice quotes it in a post for her followers only (she has none)
    note = scene.note("zed", "1")
    await scene.send("zed", "Create", note)
    await scene.run()
    quoted = await scene.one(Object, Object.uri == note["id"])
    async with scene.a.fed.transaction() as session:
        await actions.post(scene.a.fed, session, await scene.a.actor("alice"), content="<p>ours</p>",
                           visibility=Visibility.private, quote=quoted)
    # Then its Create goes to nobody on zed's server (only the request to quote does)
    assert await scene.queued("Create") == []
    assert len(await scene.queued("QuoteRequest")) == 1


async def test_a_peers_claimed_authorisation_of_a_local_post_is_not_taken_for_one(scene):
    # Given alice's post, When zed's post quoting it claims an authorisation this server never gave
    target = await scene.local_post(content="<p>mine</p>")
    forged = f"{scene.a.base}/users/alice/quote_authorizations/1"
    await scene.send("zed", "Create", scene.note("zed", "5", quote=target.uri, quoteAuthorization=forged), "5")
    # And zed quotes his own post too
    own = scene.note("zed", "6")
    await scene.send("zed", "Create", own, "6")
    await scene.send("zed", "Create", scene.note("zed", "7", quote=own["id"]), "7")
    await scene.run()
    # Then the first stays pending (only this server answers for alice), the self-quote is accepted
    assert (await scene.one(Quote, Quote.uri.endswith("/5"))).state is QuoteState.pending
    assert (await scene.one(Quote, Quote.uri.endswith("/7"))).state is QuoteState.accepted


async def test_a_peers_quote_of_a_peers_post_is_accepted_only_as_its_authorisation_says(scene):
    # Given mallory's post, and authorisations served by her server: one for zed's post 11,
    # one naming another post, one given by zed himself
    quoted = scene.note("mallory", "10")
    base = scene.peer.base

    def authorisation(n: str, by: str, post: str) -> str:
        return scene.peer.serve(f"/users/{by}/quote_authorizations/{n}", {
            "@context": "https://www.w3.org/ns/activitystreams", "id": f"{base}/users/{by}/quote_authorizations/{n}",
            "type": "QuoteAuthorization", "attributedTo": f"{base}/users/{by}", "interactingObject": post,
            "interactionTarget": quoted["id"]})

    good = authorisation("1", "mallory", f"{base}/users/zed/statuses/11")
    other = authorisation("2", "mallory", f"{base}/users/zed/statuses/99")
    self_given = authorisation("3", "zed", f"{base}/users/zed/statuses/13")
    # When zed's three quotes of her post arrive (her post is fetched, not sent)
    for n, approval in (("11", good), ("12", other), ("13", self_given)):
        note = scene.note("zed", n, quote=quoted["id"], quoteAuthorization=approval)
        await scene.send("zed", "Create", note, n)
    await scene.run()
    # Then only the one her authorisation names is accepted
    states = {q.uri.rsplit("/", 1)[1]: q.state for q in await scene.all(Quote)}
    assert states == {"11": QuoteState.accepted, "12": QuoteState.pending, "13": QuoteState.pending}
    assert await scene.count(Object, Object.uri == quoted["id"]) == 1
