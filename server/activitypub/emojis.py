"""Our custom emojis' documents, at the id their Emoji tags carry (/emojis/{emoji_id}), as
Mastodon serves them: receivers such as GoToSocial key an emoji by that id. Read as the other
ActivityPub documents are (server/access.py: Reads.federation)."""

from __future__ import annotations

from aiohttp import web

from federation.protocol.authn import Rejection
from federation.protocol.vocab.emojis import EMOJI_CONTEXT
from federation.social.emojis import emoji_document
from server.activitypub.actors import not_acceptable
from server.activitypub.negotiation import Representation, negotiate
from server.activitypub.readers import reader
from server.appkeys import DATABASE, URLS
from server.responses import error_response, json_response
from storage.emojis import local_emoji_by_id


async def get_emoji(request: web.Request) -> web.Response:
    representation = negotiate(request.headers.get("Accept"))
    if representation is None or representation is Representation.html:
        return not_acceptable()
    raw = request.match_info["emoji_id"]
    if not raw.isdigit() or len(raw) > 19:
        return error_response(404, "no such emoji")
    try:
        await reader(request)  # a signature that is there is checked
    except Rejection as exc:
        return error_response(exc.status, str(exc))
    async with request.app[DATABASE].sessions() as session:
        emoji = await local_emoji_by_id(session, int(raw))
    if emoji is None or not emoji.file_name:
        return error_response(404, "no such emoji")
    document = {"@context": EMOJI_CONTEXT, **emoji_document(emoji, request.app[URLS])}
    return json_response(document, content_type=representation.value, headers={"Vary": "Accept"})


def setup(app: web.Application) -> None:
    app.router.add_get("/emojis/{emoji_id}", get_emoji)
