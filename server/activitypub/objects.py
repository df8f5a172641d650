"""A local post, and the activity that created it, as ActivityStreams JSON; and a quote
authorisation a local author gave (FEP-044f), which peers fetch to verify a quote of her post
(404 once revoked).

Reads follow `server.activitypub.readers` (signatures required in allowlist mode). Non-public
posts are served only to a signer who may read them; to everyone else they do not exist (404),
so their existence does not leak. Nor is a post addressed to an institution-only community.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from federation.social.access import can_see, stays_home
from federation.protocol.authn import Rejection
from federation.protocol.vocab.quotes import quote_authorization_to_ap
from federation.social.posts import mentioned_actors, post_to_ap
from federation.social.quotes import approval_uri
from server.activitypub.actors import not_acceptable, user_from_path
from server.activitypub.negotiation import Representation, negotiate
from server.activitypub.readers import reader
from server.appkeys import CLOCK, DATABASE, URLS
from server.responses import error_response, json_response
from storage import actors as actor_queries
from storage.models import Actor, Object, QuoteState
from storage.posts import post_by_id, post_by_uri
from storage.quotes import quote_by_id
from storage.local_activities import activity_by_uri


async def readable_post(request: web.Request, session: AsyncSession, viewer_uri: str | None
                        ) -> tuple[Object, Actor, list[Actor]] | None:
    """The local post the path names (`username`, `status_id`), its author and the actors it
    mentions, if the reader may have it: `can_see`, and nothing addressed to an institution-only
    community. None: it does not exist for this reader (404). The one read rule of every route
    under a post (the post, its activity, an article's versions)."""
    username, status_id = user_from_path(request), request.match_info["status_id"]
    if username is None or not status_id.isdigit() or len(status_id) > 19:
        return None
    post = await post_by_uri(session, request.app[URLS].status(username, int(status_id)))
    viewer = await actor_queries.actor_by_uri(session, viewer_uri) if viewer_uri else None
    if post is None or not post.local or not await can_see(session, post, viewer):
        return None
    author = await actor_queries.actor_by_id(session, post.actor_id)
    mentions = await mentioned_actors(session, post)
    if author is None or await stays_home(session, author, mentions):  # addressed to an institution-only community
        return None
    return post, author, mentions


async def get_status(request: web.Request) -> web.Response:
    representation = negotiate(request.headers.get("Accept"))
    if representation is None or representation is Representation.html:
        return not_acceptable()
    try:
        viewer_uri = await reader(request)
    except Rejection as exc:  # logged by reader
        return error_response(exc.status, str(exc))
    urls = request.app[URLS]
    async with request.app[DATABASE].sessions() as session:
        found = await readable_post(request, session, viewer_uri)
        if found is None:
            return error_response(404, "no such post")
        post, author, mentions = found
        if request.match_info.get("activity"):
            activity = await activity_by_uri(session, urls.status_activity(author.username, post.id))
            document = activity.raw if activity is not None else None
        else:
            document = await post_to_ap(session, post, author, mentions, urls.base,
                                        request.app[CLOCK].now())
    if document is None:
        return error_response(404, "no such activity")
    return json_response(document, content_type=representation.value, headers={"Vary": "Accept"})


async def get_quote_authorization(request: web.Request) -> web.Response:
    representation = negotiate(request.headers.get("Accept"))
    if representation is None or representation is Representation.html:
        return not_acceptable()
    username, raw = user_from_path(request), request.match_info["quote_id"]
    if username is None or not raw.isdigit() or len(raw) > 19:
        return error_response(404, "no such quote authorization")
    try:
        await reader(request)
    except Rejection as exc:
        return error_response(exc.status, str(exc))
    async with request.app[DATABASE].sessions() as session:
        quote = await quote_by_id(session, int(raw))
        quoted = await post_by_id(session, quote.quoted_id) if quote is not None and quote.quoted_id else None
        author = await actor_queries.actor_by_id(session, quoted.actor_id) if quoted is not None else None
    # only one in force, given by its author, at the address it was given under
    if (quote is None or quote.state is not QuoteState.accepted or author is None or not author.local
            or quoted.local_only or author.username != username or quote.approval_uri != approval_uri(request.app[URLS], author, quote)):
        return error_response(404, "no such quote authorization")
    document = quote_authorization_to_ap(quote.approval_uri, author.uri, quote.uri, quoted.uri)
    return json_response(document, content_type=representation.value, headers={"Vary": "Accept"})


def setup(app: web.Application) -> None:
    app.router.add_get("/users/{username}/quote_authorizations/{quote_id}", get_quote_authorization)
    app.router.add_get("/users/{username}/statuses/{status_id}", get_status)
    app.router.add_get("/users/{username}/statuses/{status_id}/{activity:activity}", get_status)
