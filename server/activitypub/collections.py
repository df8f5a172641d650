"""A local actor's outbox, followers, following, featured and featured tags collections, and a
community's moderators, pinned threads (its `featured`) and each thread's context (FEP-7888).

Without `page`, a collection answers with its size and a link to its first page; with
`page=true`, it answers one `OrderedCollectionPage`, newest first, cursored by `max_id`
(older than) or `min_id` (newer than).
"""

from __future__ import annotations

from aiohttp import web

from federation.protocol.authn import Rejection
from federation.protocol.urls import INSTANCE_ACTOR_USERNAME
from federation.protocol.vocab import (
    collection_page_to_ap,
    collection_to_ap,
    featured_tags_to_ap,
    featured_tags_url,
    featured_to_ap,
)
from federation.protocol.vocab.community import context_to_ap, context_url, group_featured_to_ap, moderators_to_ap
from federation.social.access import can_see
from server.activitypub.actors import no_such_actor, not_acceptable, user_from_path
from server.activitypub.negotiation import Representation, negotiate
from server.activitypub.readers import reader
from server.appkeys import DATABASE, SETTINGS, URLS
from server.responses import error_response, json_response
from storage import actors as actor_queries
from storage import collections as collection_queries
from storage import tags as tag_queries
from storage import communities as community_queries
from storage import community_threads as thread_queries
from storage.posts import post_by_id

CONTEXT_LIMIT = 200  # the posts a thread's context collection lists, at most

_ID_ATTRIBUTE = {
    "outbox": "outbox",
    "followers": "followers_url",
    "following": "following_url",
}


def _cursor(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 19 or int(value) >= 1 << 63:
        raise ValueError(f"{name} must be a non-negative integer id")
    return int(value)


async def _collection(request: web.Request, username: str, name: str) -> web.Response:
    representation = negotiate(request.headers.get("Accept"))
    if representation is None or representation is Representation.html:
        return not_acceptable()
    try:
        max_id = _cursor(request, "max_id")
        min_id = _cursor(request, "min_id")
    except ValueError as exc:
        return error_response(400, str(exc))
    try:
        await reader(request)
    except Rejection as exc:
        return error_response(exc.status, str(exc))
    page_size = request.app[SETTINGS].federation.collection_page_size
    async with request.app[DATABASE].sessions() as session:
        actor = await actor_queries.local_actor_by_username(session, username)
        if actor is None:
            return no_such_actor(username)
        if name == "moderators":
            if await community_queries.community_of(session, actor.id) is None:
                return no_such_actor(f"{username}/moderators")
            moderators = await community_queries.moderators(session, actor.id)
            document = moderators_to_ap(request.app[URLS].moderators(username), moderators)
            return json_response(document, content_type=representation.value, headers={"Vary": "Accept"})
        if name == "tags":
            names = [row.name for row in await tag_queries.featured_of(session, actor.id)]
            document = featured_tags_to_ap(featured_tags_url(actor), names, request.app[URLS].base)
        elif name == "featured":
            if await community_queries.community_of(session, actor.id) is not None:  # its pinned threads
                pinned = await thread_queries.pinned_posts(session, actor.id)
                document = group_featured_to_ap(actor, [post.uri for post in pinned if not post.local_only])
            else:
                document = featured_to_ap(actor.featured_url, [])
        else:
            collection_id = getattr(actor, _ID_ATTRIBUTE[name])
            total = await collection_queries.collection_total(session, name, actor.id)
            if "page" not in request.query:
                document = collection_to_ap(collection_id, total)
            else:
                page = await collection_queries.collection_page(
                    session, name, actor.id, limit=page_size, max_id=max_id, min_id=min_id
                )
                document = collection_page_to_ap(
                    collection_id, page, total, max_id=max_id, min_id=min_id
                )
    return json_response(document, content_type=representation.value, headers={"Vary": "Accept"})


async def get_user_collection(request: web.Request) -> web.Response:
    username = user_from_path(request)
    if username is None:
        return no_such_actor(request.match_info["username"])
    return await _collection(request, username, request.match_info["collection"])


async def get_instance_collection(request: web.Request) -> web.Response:
    return await _collection(request, INSTANCE_ACTOR_USERNAME, request.match_info["collection"])


async def get_context(request: web.Request) -> web.Response:
    """A thread of a community hosted here, as its context collection: the posts of it the
    community announced that the reader may see (an institution-only post never: a peer is not
    the instance's user), the first one first. The route's name is the community's, so the read
    guard has already refused an institution-only community to a peer."""
    representation = negotiate(request.headers.get("Accept"))
    if representation is None or representation is Representation.html:
        return not_acceptable()
    username, raw = user_from_path(request), request.match_info["post_id"]
    if username is None or not raw.isdigit() or len(raw) > 19 or int(raw) >= 1 << 63:
        return error_response(404, "no such thread")
    try:
        reader_uri = await reader(request)
    except Rejection as exc:
        return error_response(exc.status, str(exc))
    async with request.app[DATABASE].sessions() as session:
        group = await actor_queries.local_actor_by_username(session, username)
        community = await community_queries.community_of(session, group.id) if group is not None else None
        root = await post_by_id(session, int(raw)) if community is not None else None
        if (community is None or group is None or community.local_only or root is None
                or not await thread_queries.is_announced_by(session, group.id, root.id)):
            return error_response(404, "no such thread")
        viewer = await actor_queries.actor_by_uri(session, reader_uri) if reader_uri else None
        posts = [post for post in await thread_queries.thread_posts(session, group.id, root, CONTEXT_LIMIT)
                 if await can_see(session, post, viewer)]
        if root not in posts:
            return error_response(404, "no such thread")
    document = context_to_ap(context_url(group, root.id), group, [post.uri for post in posts])
    return json_response(document, content_type=representation.value, headers={"Vary": "Accept"})


def setup(app: web.Application) -> None:
    pattern = "{collection:outbox|followers|following|moderators}"
    app.router.add_get(f"/users/{{username}}/{pattern}", get_user_collection)
    app.router.add_get("/users/{username}/collections/{collection:featured|tags}", get_user_collection)
    app.router.add_get("/users/{username}/context/{post_id}", get_context)
    app.router.add_get(f"/actor/{pattern}", get_instance_collection)
    app.router.add_get("/actor/collections/{collection:featured|tags}", get_instance_collection)
