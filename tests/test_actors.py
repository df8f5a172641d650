"""Actor documents: the fields peers rely on, and content negotiation."""

from __future__ import annotations

import pytest

from server.activitypub.negotiation import Representation, negotiate

LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


async def test_person_document_has_the_usual_fields(instances, http):
    a = await instances.start()
    await a.add_user("alice")
    async with http.get(f"{a.base}/users/alice", headers={"Accept": "application/activity+json"}) as r:
        assert r.status == 200 and r.content_type == "application/activity+json"
        assert "Accept" in r.headers["Vary"]
        actor = await r.json(content_type=None)
    uri = f"{a.base}/users/alice"
    assert actor["@context"][:2] == ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
    assert actor["id"] == uri and actor["type"] == "Person" and actor["preferredUsername"] == "alice"
    assert actor["inbox"] == f"{uri}/inbox" and actor["outbox"] == f"{uri}/outbox"
    assert actor["followers"] == f"{uri}/followers" and actor["following"] == f"{uri}/following"
    assert actor["featured"] == f"{uri}/collections/featured"
    assert actor["endpoints"] == {"sharedInbox": f"{a.base}/inbox"}
    assert actor["url"] == f"{a.base}/@alice"
    assert actor["publicKey"]["id"] == f"{uri}#main-key" and actor["publicKey"]["owner"] == uri
    assert actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert actor["manuallyApprovesFollowers"] is False and actor["discoverable"] is True
    assert actor["published"].endswith("Z")
    assert {"name", "summary"} <= actor.keys()


async def test_instance_actor_is_an_application(instances, http):
    a = await instances.start()
    async with http.get(f"{a.base}/actor") as r:
        actor = await r.json(content_type=None)
    assert actor["type"] == "Application" and actor["id"] == f"{a.base}/actor"
    assert actor["publicKey"]["owner"] == actor["id"]
    # the instance actor is not also reachable as a user
    async with http.get(f"{a.base}/users/rounds.internal") as r:
        assert r.status == 404


@pytest.mark.parametrize(
    ("accept", "status", "content_type"),
    [
        ("application/activity+json", 200, "application/activity+json"),
        (LD, 200, "application/ld+json"),
        ("application/json", 200, "application/activity+json"),
        (None, 200, "application/activity+json"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", 200, "text/html"),
        ("image/png", 406, "application/json"),
        ("text/html;q=0, application/xml", 406, "application/json"),
    ],
)
async def test_content_negotiation(instances, http, accept, status, content_type):
    a = await instances.start()
    await a.add_user("alice")
    headers = {"Accept": accept} if accept else {"Accept": ""}
    async with http.get(f"{a.base}/users/alice", headers=headers) as r:
        assert r.status == status
        assert r.content_type == content_type
        if status == 406:
            assert "application/activity+json" in (await r.json())["error"]
        if content_type == "application/ld+json":
            assert 'profile="https://www.w3.org/ns/activitystreams"' in r.headers["Content-Type"]


async def test_unknown_user_is_404_in_json_and_html(instances, http):
    a = await instances.start()
    async with http.get(f"{a.base}/users/nobody") as r:
        assert r.status == 404 and "nobody" in (await r.json())["error"]
    async with http.get(f"{a.base}/@nobody") as r:
        assert r.status == 404 and r.content_type == "text/html"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/activity+json, application/ld+json", Representation.activity_json),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', Representation.ld_json),
        ("text/html;q=0.5, application/activity+json;q=0.9", Representation.activity_json),
        ("text/*", Representation.html),
        ("*/*", Representation.activity_json),
        ("application/activity+json;q=0", None),
        ("text/plain", None),
    ],
)
def test_negotiate(accept, expected):
    assert negotiate(accept) is expected
