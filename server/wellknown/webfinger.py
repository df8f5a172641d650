"""WebFinger (RFC 7033) for local actors.

A resource is `acct:user@authority` (the `acct:` prefix may be left off, as Mastodon allows) or
the URL of a local actor or profile page. As on Mastodon, a resource that names nobody here is a
404: an unknown account, another host's, a URL of something else, or a URI in any other scheme
(`mailto:`, `urn:`). Only what is no resource at all (no scheme and no `@`, an empty user or host)
is a 400.

WebFinger answers anyone, in every mode: peers look accounts up unsigned (Mastodon does), and
the actor it points to shows a stranger only its key in allowlist mode. An institution-only
community is never found. A signed lookup is
checked like any signed GET, so a refused peer that says who it is gets 403 and nothing else.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from aiohttp import web

from federation.protocol.authn import Rejection
from federation.social.access import Reader, may_reach
from federation.protocol.urls import COMMUNITY_PAGES, INSTANCE_ACTOR_USERNAME, LocalUrls
from server.activitypub.readers import reader
from server.appkeys import DATABASE, URLS
from server.responses import error_response, json_response
from storage import actors as actor_queries
from storage.communities import is_local_only_actor
from storage.models import ActorType

JRD = "application/jrd+json; charset=utf-8"
CORS = {"Access-Control-Allow-Origin": "*", "Vary": "Accept"}
# a URI's scheme (RFC 3986); `alice@host:8443` has none, since a scheme holds no `@`
_OTHER_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


class MalformedResource(ValueError):
    pass


def _names_a_community(resource: str) -> bool:
    return urlsplit(resource.strip()).path.startswith(f"{COMMUNITY_PAGES}/")


def resource_to_username(resource: str, urls: LocalUrls) -> str | None:
    """The local username a resource names, None if it names nothing here.

    Raises MalformedResource when the resource is neither a URI nor `user@host`.
    """
    resource = resource.strip()
    if _OTHER_SCHEME.match(resource) and not resource.lower().startswith(("acct:", "https:", "http:")):
        return None  # mailto:, urn:, ...: a URI, of nothing an actor here is
    if resource.lower().startswith(("https:", "http:")):
        parts = urlsplit(resource)
        if f"{parts.scheme}://{parts.netloc.lower()}" != urls.base:
            return None
        path = parts.path.rstrip("/")
        if path == "/actor":
            return INSTANCE_ACTOR_USERNAME
        for prefix in ("/users/", "/@", f"{COMMUNITY_PAGES}/"):
            if path.startswith(prefix) and "/" not in path[len(prefix):]:
                return unquote(path[len(prefix):]).lower() or None
        return None
    account = resource[5:] if resource.lower().startswith("acct:") else resource
    user, at, host = account.lstrip("@").rpartition("@")
    if not at or not user or not host or "/" in account or " " in account:
        raise MalformedResource(resource)
    if host.lower() != urls.authority:
        return None
    return user.lower()


async def webfinger(request: web.Request) -> web.Response:
    try:
        await reader(request)  # few peers sign a lookup; one that does is checked like any signed GET
    except Rejection as exc:
        return error_response(exc.status, str(exc), headers=CORS)
    resource = request.query.get("resource")
    if not resource:
        return error_response(400, "missing resource parameter, e.g. ?resource=acct:alice@host", headers=CORS)
    urls = request.app[URLS]
    try:
        username = resource_to_username(resource, urls)
    except MalformedResource:
        return error_response(
            400, f"malformed resource {resource!r}: use acct:user@host or an actor URL",
            headers=CORS,
        )
    if username is None:
        return error_response(404, f"{resource} is not an actor on this server", headers=CORS)
    async with request.app[DATABASE].sessions() as session:
        actor = await actor_queries.local_actor_by_username(session, username)
        # a lookup is nobody's: an institution-only community is never found this way
        hidden = actor is not None and not may_reach(await is_local_only_actor(session, actor.id), Reader.anonymous)
    if actor is None or hidden or (_names_a_community(resource) and actor.type is not ActorType.Group):
        return error_response(404, f"no user {resource} on this server", headers=CORS)
    document = {
        "subject": urls.acct(actor.username),
        "aliases": [actor.uri, actor.url],
        "links": [
            {"rel": "self", "type": "application/activity+json", "href": actor.uri},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": actor.url},
        ],
    }
    return json_response(document, content_type=JRD, headers=CORS)


def setup(app: web.Application) -> None:
    app.router.add_get("/.well-known/webfinger", webfinger)
