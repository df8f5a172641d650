"""A local article's earlier versions over ActivityPub: the OrderedCollection its Article names
as `versions` (`<post id>/versions`, oldest first) and each version at `<post id>/versions/<n>`
(federation.protocol.vocab.articles says their shape).

They are read as the article's post is (`objects.get_status`: the same signature rule, the same
`can_see`, and nothing of an institution-only article or of one addressed to an institution-only
community): whoever may not read the article learns nothing of its versions.
"""

from __future__ import annotations

from aiohttp import web

from federation.articles.documents import version_document, versions_document
from federation.protocol.authn import Rejection
from server.activitypub.actors import not_acceptable
from server.activitypub.negotiation import Representation, negotiate
from server.activitypub.objects import readable_post
from server.activitypub.readers import reader
from server.appkeys import DATABASE, URLS
from server.responses import error_response, json_response
from storage import articles as article_queries


async def get_versions(request: web.Request) -> web.Response:
    representation = negotiate(request.headers.get("Accept"))
    if representation is None or representation is Representation.html:
        return not_acceptable()
    number = request.match_info.get("n")
    try:
        viewer_uri = await reader(request)
    except Rejection as exc:  # logged by reader
        return error_response(exc.status, str(exc))
    urls = request.app[URLS]
    async with request.app[DATABASE].sessions() as session:
        found = await readable_post(request, session, viewer_uri)  # the post's own read rule
        if found is None or found[0].type != "Article":
            return error_response(404, "no such article")
        post, author, _ = found
        article = await article_queries.article_of_post(session, post.id)
        if article is None:
            return error_response(404, "no such article")
        if number is None:
            document = versions_document(post, author, article, await article_queries.versions_of(session, article.id),
                                         urls.base)
        else:
            row = await article_queries.version_of(session, article.id, int(number)) if len(number) <= 9 else None
            if row is None:
                return error_response(404, "no such version")
            document = version_document(post, author, article, row, urls.base)
    return json_response(document, content_type=representation.value, headers={"Vary": "Accept"})


def setup(app: web.Application) -> None:
    app.router.add_get("/users/{username}/statuses/{status_id}/versions", get_versions)
    app.router.add_get(r"/users/{username}/statuses/{status_id}/versions/{n:\d+}", get_versions)
