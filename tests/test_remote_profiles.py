"""A peer's account shows its avatar, header and profile fields (federation.remote.actors
`upsert_remote_actor`, from the actor's `icon`, `image` and PropertyValue attachments, as
federation.protocol.vocab.parse `ap_to_actor` reads them): when first fetched, and again when
its actor's Update says they changed. A field's value is sanitised as a bio is; an icon that is
not an http(s) URL is not kept."""

from __future__ import annotations

import aiohttp

from federation.protocol.vocab.actors import ap_to_actor
from tests.api_helpers import token_for
from tests.community_helpers import follow_remote
from tests.instances import settle
from tests.test_api_startup import _json, png


async def test_a_peers_avatar_header_and_fields_show_here_and_follow_its_updates(instances, http):
    # Given alice on A with an avatar, a header and two profile fields
    a = await instances.start("a")
    b = await instances.start("b")
    alice = await token_for(a, "alice")
    bob = await token_for(b, "bob")
    form = aiohttp.FormData()
    form.add_field("avatar", png((200, 40, 40)), filename="me.png", content_type="image/png")
    form.add_field("header", png((40, 40, 200)), filename="ward.png", content_type="image/png")
    form.add_field("fields_attributes[0][name]", "Unit")
    form.add_field("fields_attributes[0][value]", "ICU")
    form.add_field("fields_attributes[1][name]", "Pager")
    form.add_field("fields_attributes[1][value]", "4-2 <b>")
    own = await _json(http, "PATCH", f"{a.base}/api/v1/accounts/update_credentials", alice, data=form)
    assert own["avatar"].startswith(f"{a.base}/media/") and own["header"].startswith(f"{a.base}/media/")

    # When bob on B follows her (B fetches her actor)
    await follow_remote(b, "bob", f"@alice@{a.urls.authority}")
    await settle(a, b)
    # Then B's client API shows her avatar, header and fields, A's images
    seen = await _json(http, "GET", f"{b.base}/api/v1/accounts/lookup", bob, params={"acct": f"alice@{a.urls.authority}"})
    assert (seen["avatar"], seen["avatar_static"]) == (own["avatar"], own["avatar"])
    assert (seen["header"], seen["header_static"]) == (own["header"], own["header"])
    assert [(field["name"], field["value"]) for field in seen["fields"]] == [("Unit", "ICU"), ("Pager", "4-2 &lt;b&gt;")]

    # When she changes her avatar and keeps one field
    form = aiohttp.FormData()
    form.add_field("avatar", png((20, 200, 20)), filename="new.png", content_type="image/png")
    form.add_field("fields_attributes[0][name]", "Unit")
    form.add_field("fields_attributes[0][value]", "Recovery")
    changed = await _json(http, "PATCH", f"{a.base}/api/v1/accounts/update_credentials", alice, data=form)
    assert changed["avatar"] != own["avatar"]
    await settle(a, b)
    # Then B, told by her actor's Update, shows the new ones
    seen = await _json(http, "GET", f"{b.base}/api/v1/accounts/lookup", bob, params={"acct": f"alice@{a.urls.authority}"})
    assert seen["avatar"] == changed["avatar"] and seen["header"] == own["header"]
    assert [(field["name"], field["value"]) for field in seen["fields"]] == [("Unit", "Recovery")]


async def test_a_peers_field_values_are_sanitised_as_its_bio_is(scene):
    # Given zoe on a peer, whose profile field carries a script and a link
    scene.peer.add_actor("zoe", key=2, icon={"type": "Image", "url": f"{scene.peer.base}/zoe.png"}, attachment=[
        {"type": "PropertyValue", "name": "Site",
         "value": '<a href="https://x.example" rel="me">x</a><script>alert(1)</script>'}])
    # When A stores her
    zoe = await scene.remote("zoe")
    # Then the link stays, the script does not, and her avatar is her server's image
    assert 'href="https://x.example"' in zoe.fields[0]["value"] and "script" not in zoe.fields[0]["value"]
    assert zoe.avatar_url == f"{scene.peer.base}/zoe.png"


def _actor(**extra) -> dict:
    return {"id": "https://peer.example/users/zed", "type": "Person", "preferredUsername": "zed",
            "inbox": "https://peer.example/users/zed/inbox",
            "publicKey": {"id": "https://peer.example/users/zed#main-key", "publicKeyPem": "PEM"}, **extra}


def test_icons_in_every_shape_peers_send_and_none_that_is_not_a_web_url():
    link = {"type": "Link", "href": "https://peer.example/a.png"}
    for icon in ("https://peer.example/a.png", {"type": "Image", "url": "https://peer.example/a.png"},
                 [{"type": "Image", "url": [link]}], {"type": "Image", "url": link}):
        assert ap_to_actor(_actor(icon=icon)).icon == "https://peer.example/a.png", icon
    for icon in ({"type": "Image", "url": "javascript:alert(1)"}, {"type": "Image"}, 7, None,
                 {"type": "Image", "url": "data:image/png;base64,AAAA"}):
        assert ap_to_actor(_actor(icon=icon, image=icon)).icon is None, icon


def test_fields_are_property_values_with_text_only():
    actor = ap_to_actor(_actor(attachment=[
        {"type": "PropertyValue", "name": "Unit", "value": "<p>ICU</p>"},
        {"type": "IdentityProof", "name": "x", "signatureValue": "y"},
        {"type": "PropertyValue", "name": "Pager", "value": 42},
        *({"type": "PropertyValue", "name": f"n{k}", "value": "v" * 5000} for k in range(20))]))
    assert actor.fields[0] == ("Unit", "<p>ICU</p>")
    assert len(actor.fields) == 16 and all(len(value) == 2048 for _, value in actor.fields[1:])
