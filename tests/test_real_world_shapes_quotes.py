"""Real-world shapes, part three: quote posts (FEP-044f) as Mastodon 4.5 sends and reads them
(the harness is described in test_real_world_shapes).

The fixtures were written for this project from Mastodon's documentation of quote posts, with
our own ids and wording, keeping the structure, fields and types:
- mastodon_create_quote.json mirrors the quote post of docs.joinmastodon.org/spec/activitypub/
  ("Quote posts": `quote`, with `quoteUri` and `_misskey_quote` for older servers,
  `quoteAuthorization`, the `quote-inline` fallback paragraph) and the post's
  `interactionPolicy.canQuote` (automaticApproval / manualApproval) of the same page and of FEP-044f;
- mastodon_quote_request.json mirrors the QuoteRequest of that page and FEP-044f (the quoting
  post embedded as `instrument`);
- mastodon_accept_quote_request.json mirrors its Accept (the QuoteRequest embedded as `object`,
  the QuoteAuthorization's id as `result`);
- mastodon_quote_authorization.json mirrors the QuoteAuthorization document (`attributedTo`,
  `interactingObject`, `interactionTarget`);
- mastodon_delete_quote_authorization.json mirrors the revocation, a Delete of the authorisation.
hcarter quotes; rnokafor (the same Mastodon server) is quoted, and serves her authorisations.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from federation.outbox import actions
from federation.protocol.vocab import PUBLIC
from federation.remote.resolve import ensure_post
from storage.models import InboxState, Quote, QuoteState
from tests.api_helpers import token_for
from tests.fakepeer import fixture_keys
from tests.handler_helpers import delivery_rows
from tests.test_real_world_shapes import Shapes, _substitute, shapes_running

AP_JSON = {"Accept": "application/activity+json"}
QUOTED_POST = "/users/rnokafor/statuses/114501998120044"


@pytest.fixture
async def shapes(instances, http):
    async with shapes_running(instances, http) as running:
        yield running


def serve_quoted_author(shapes: Shapes) -> str:
    """rnokafor's actor (Mastodon's actor fixture, renamed) and her post that hcarter quotes."""
    actor = _substitute(shapes.load("mastodon_actor.json"), [("hcarter", "rnokafor")])
    shapes.peer.serve(urlsplit(actor["id"]).path, actor)
    shapes.peer.serve(QUOTED_POST, {
        "@context": "https://www.w3.org/ns/activitystreams", "id": f"{actor['id']}/statuses/114501998120044",
        "type": "Note", "attributedTo": actor["id"], "published": "2025-10-02T13:00:00Z",
        "to": [PUBLIC], "cc": [actor["followers"]], "content": "<p>Central line infections halved this quarter.</p>",
        "interactionPolicy": {"canQuote": {"automaticApproval": [PUBLIC], "manualApproval": []}},
    })
    return actor["id"]


async def post_as_quoted_author(shapes: Shapes, name: str, changes: dict[str, Any] | None = None) -> dict:
    """POST a fixture signed by rnokafor's key (202 expected), then run alice's workers once."""
    activity = shapes.load(name)
    for key, value in (changes or {}).items():
        activity[key] = {**activity[key], **value} if isinstance(activity.get(key), dict) else value
    status, text = await shapes.peer.post(
        shapes.http, "mastodon", f"{shapes.a.base}/inbox", activity, shapes.a.clock.now(),
        key=fixture_keys(0), key_id=f"{shapes.peer.base}/users/rnokafor#main-key",
    )
    assert status == 202, text
    await shapes.a.step()
    return activity


async def quote_shown(shapes: Shapes, uri: str) -> dict:
    """The quote of the post `uri` as alice's client sees it (GET /api/v1/statuses/:id)."""
    headers = await token_for(shapes.a, "alice", create=False)
    post = await shapes.stored(uri)
    async with shapes.http.get(f"{shapes.a.base}/api/v1/statuses/{post.id}", headers=headers) as response:
        assert response.status == 200, await response.text()
        return (await response.json())["quote"]


async def fetch_ap(shapes: Shapes, uri: str) -> dict:
    async with shapes.http.get(uri, headers=AP_JSON) as response:
        assert response.status == 200, await response.text()
        return await response.json(content_type=None)


async def test_a_mastodon_quote_request_is_answered_in_mastodons_shape(shapes):
    # Given alice's post (anyone may quote it), and hcarter's Mastodon actor
    alice_post = await shapes.alice_posts("Sepsis bundle audit")
    shapes.serve("mastodon_actor.json")

    # When his server asks to quote it, the quoting post embedded as `instrument`
    request = await shapes.deliver("mastodon_quote_request.json")

    # Then alice's server accepts, embedding the request and naming the authorisation as `result`
    assert await shapes.state(request) == (InboxState.done, None)
    [(inbox, accept)] = await delivery_rows(shapes.a, "Accept")
    assert inbox.startswith(shapes.peer.base)
    alice = (await shapes.a.actor("alice")).uri
    assert (accept["type"], accept["actor"]) == ("Accept", alice)
    assert {key: accept["object"][key] for key in ("id", "type", "actor", "object", "instrument")} == {
        "id": request["id"], "type": "QuoteRequest", "actor": request["actor"], "object": alice_post,
        "instrument": request["instrument"]["id"]}
    assert isinstance(accept["result"], str)
    # And the authorisation it names is served as Mastodon reads it
    authorization = await fetch_ap(shapes, accept["result"])
    assert authorization["type"] == "QuoteAuthorization" and authorization["id"] == accept["result"]
    assert authorization["attributedTo"] == alice
    assert authorization["interactingObject"] == request["instrument"]["id"]
    assert authorization["interactionTarget"] == alice_post
    assert "https://w3id.org/fep/044f#QuoteAuthorization" in str(authorization["@context"])

    # When the quoting post then arrives, carrying that authorisation
    quoting = request["instrument"]
    create = await shapes.deliver("mastodon_create_quote.json", changes={
        "id": f"{quoting['id']}/activity", "object": {**quoting, "quoteAuthorization": accept["result"]}})

    # Then alice's client shows the quote accepted, with her post
    assert await shapes.state(create) == (InboxState.done, None)
    shown = await quote_shown(shapes, quoting["id"])
    assert shown["state"] == "accepted" and shown["quoted_status"]["uri"] == alice_post


async def test_a_mastodon_quote_authorised_by_its_server_is_accepted_then_revoked(shapes):
    # Given hcarter and rnokafor on a Mastodon server, which serves her authorisation of his quote
    serve_quoted_author(shapes)
    shapes.serve("mastodon_actor.json")
    authorization = shapes.serve("mastodon_quote_authorization.json")

    # When his quote of her post arrives (her post is fetched)
    create = await shapes.deliver("mastodon_create_quote.json")

    # Then the authorisation was checked at its source and the quote shows accepted
    assert await shapes.state(create) == (InboxState.done, None)
    note = create["object"]
    assert urlsplit(authorization["id"]).path in [path for _, path, *_ in shapes.peer.received]
    shown = await quote_shown(shapes, note["id"])
    assert shown["state"] == "accepted" and shown["quoted_status"]["uri"] == note["quote"]
    # And the post's own quote policy was read
    stored = await shapes.stored(note["id"])
    assert stored.quote_policy == "public"

    # When rnokafor revokes it (Mastodon deletes the authorisation)
    delete = await post_as_quoted_author(shapes, "mastodon_delete_quote_authorization.json")

    # Then the quote shows revoked, without her post
    assert await shapes.state(delete) == (InboxState.done, None)
    assert await quote_shown(shapes, note["id"]) == {"state": "revoked", "quoted_status": None}


async def test_alices_quote_of_a_mastodon_post_has_the_fields_mastodon_reads(shapes):
    # Given rnokafor's post, known to alice's server
    serve_quoted_author(shapes)
    quoted_uri = f"{shapes.peer.base}{QUOTED_POST}"
    quoted = await ensure_post(shapes.a.fed, quoted_uri)

    # When alice quotes it, her server asks rnokafor's (QuoteRequest) and Mastodon accepts
    async with shapes.a.fed.transaction() as session:
        post = await actions.post(shapes.a.fed, session, await shapes.a.actor("alice"),
                                  content="<p>Worth reading</p>", quote=quoted, quote_policy="followers")
    [(inbox, request)] = await delivery_rows(shapes.a, "QuoteRequest")
    assert (request["object"], request["instrument"]) == (quoted_uri, post.uri)
    accept = await post_as_quoted_author(shapes, "mastodon_accept_quote_request.json", {
        "object": {"id": request["id"], "instrument": post.uri}})
    assert await shapes.state(accept) == (InboxState.done, None)
    quote = await shapes.scalar(select(Quote).where(Quote.object_id == post.id))
    assert quote.state is QuoteState.accepted

    # Then alice's quoting post, as served, has every field Mastodon reads
    note = await fetch_ap(shapes, post.uri)
    assert note["quote"] == note["quoteUri"] == note["_misskey_quote"] == quoted_uri
    assert note["quoteAuthorization"] == accept["result"]
    followers = (await shapes.a.actor("alice")).followers_url
    assert note["interactionPolicy"]["canQuote"]["automaticApproval"] == [followers]
    context = str(note["@context"])
    for term in ("https://w3id.org/fep/044f#quote", "https://w3id.org/fep/044f#quoteAuthorization",
                 "http://fedibird.com/ns#quoteUri", "https://misskey-hub.net/ns#_misskey_quote", "gotosocial.org/ns"):
        assert term in context, term
