"""WebFinger, host-meta and NodeInfo as a remote server sees them."""

from __future__ import annotations

import pytest

from federation.admin import instance
from server.profile import PROFILES
from tests.factories import add_public_notes


async def _webfinger(http, instance, resource, status):
    async with http.get(f"{instance.base}/.well-known/webfinger", params={"resource": resource}) as r:
        assert r.status == status, await r.text()
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        return r.content_type, await r.json(content_type=None)


@pytest.mark.parametrize(
    "resource",
    ["acct:alice@{authority}", "alice@{authority}", "acct:ALICE@{authority}",
     "{base}/users/alice", "{base}/@alice"],
)
async def test_webfinger_finds_a_user_by_acct_or_url(instances, http, resource):
    a = await instances.start()
    await a.add_user("alice")
    content_type, jrd = await _webfinger(
        http, a, resource.format(authority=a.urls.authority, base=a.base), 200
    )
    assert content_type == "application/jrd+json"
    assert jrd["subject"] == f"acct:alice@{a.urls.authority}"
    assert f"{a.base}/users/alice" in jrd["aliases"]
    links = {link["rel"]: link for link in jrd["links"]}
    assert links["self"] == {"rel": "self", "type": "application/activity+json", "href": f"{a.base}/users/alice"}
    assert links["http://webfinger.net/rel/profile-page"]["href"] == f"{a.base}/@alice"


async def test_webfinger_instance_actor(instances, http):
    a = await instances.start()
    _, jrd = await _webfinger(http, a, f"acct:rounds.internal@{a.urls.authority}", 200)
    assert next(l for l in jrd["links"] if l["rel"] == "self")["href"] == f"{a.base}/actor"


@pytest.mark.parametrize(
    ("resource", "status"),
    [
        ("acct:nobody@{authority}", 404),
        ("acct:alice@elsewhere.example", 404),
        ("https://elsewhere.example/users/alice", 404),
        ("{base}/users/nobody", 404),
        ("nobody@{authority}", 404),
        ("{base}/tags/alice", 404),
        ("{base}/", 404),
        ("https:alice", 404),
        ("mailto:alice@{authority}", 404),
        ("MAILTO:alice@{authority}", 404),
        ("xmpp:alice@{authority}", 404),
        ("urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", 404),
        ("acct:mailto:alice@{authority}", 404),
        ("acct:alice", 400),
        ("acct:@{authority}", 400),
        ("alice", 400),
        ("", 400),
    ],
)
async def test_webfinger_errors(instances, http, resource, status):
    a = await instances.start()
    await a.add_user("alice")
    _, body = await _webfinger(http, a, resource.format(authority=a.urls.authority, base=a.base), status)
    assert body["error"]


async def test_webfinger_without_resource_is_400(instances, http):
    a = await instances.start()
    async with http.get(f"{a.base}/.well-known/webfinger") as r:
        assert r.status == 400
        assert "missing resource" in (await r.json())["error"]


async def test_host_meta_xml_and_json(instances, http):
    a = await instances.start()
    template = f"{a.base}/.well-known/webfinger?resource={{uri}}"
    async with http.get(f"{a.base}/.well-known/host-meta") as r:
        assert r.content_type == "application/xrd+xml"
        assert f'template="{template}"' in await r.text()
    for url, headers in ((f"{a.base}/.well-known/host-meta.json", {}),
                         (f"{a.base}/.well-known/host-meta", {"Accept": "application/json"})):
        async with http.get(url, headers=headers) as r:
            assert (await r.json())["links"][0] == {"rel": "lrdd", "type": "application/jrd+json", "template": template}


async def test_nodeinfo_index_and_real_counts(instances, http):
    a = await instances.start(instance={"name": "CHU Example"})
    _, alice = await a.add_user("alice")
    await a.add_user("bob")
    async with a.db.sessions.begin() as session:
        await add_public_notes(session, alice, 3)
    async with http.get(f"{a.base}/.well-known/nodeinfo") as r:
        links = (await r.json())["links"]
    assert [l["href"] for l in links] == [f"{a.base}/nodeinfo/2.0", f"{a.base}/nodeinfo/2.1"]
    for link in links:
        async with http.get(link["href"]) as r:
            assert r.status == 200
            assert "nodeinfo.diaspora.software/ns/schema" in r.headers["Content-Type"]
            info = await r.json(content_type=None)
        assert link["rel"].endswith(info["version"])
        assert info["software"]["name"] == "rounds"
        assert info["protocols"] == ["activitypub"]
        assert info["openRegistrations"] is False
        assert info["usage"]["users"]["total"] == 2
        assert info["usage"]["localPosts"] == 3
        assert info["metadata"]["nodeName"] == "CHU Example"
    # When an admin opens registrations and renames the instance in the console, Then NodeInfo says so
    async with a.db.sessions.begin() as session:
        await instance.save(session, name="CHU Nord", description="Knowledge", rules="", registrations="open",
                            by="test", at=a.clock.now())
    a.app[PROFILES].forget()
    async with http.get(f"{a.base}/nodeinfo/2.1") as r:
        info = await r.json(content_type=None)
    assert (info["openRegistrations"], info["metadata"]["nodeName"]) == (True, "CHU Nord")
