"""Mastodon client API: search. GET /api/v2/search over accounts, statuses and hashtags, and
GET /api/v1/accounts/search over accounts.

Searching reads only what this instance knows: actors by username or display name, posts by
full-text search among those the caller may see (storage.search: ranked, best first; Mastodon
keeps full-text search to signed-in users, and so do we), hashtags by prefix.

A statuses search takes Mastodon's operators in `q`, beside its words and "quoted phrases"
(all of which a post must hold):
- `from:user@host`, `from:user` (a local user) or `from:me`: by that author;
- `has:media`, `has:poll`;
- `before:YYYY-MM-DD` (published before that day), `after:YYYY-MM-DD` (after it),
  `during:YYYY-MM-DD` (on it), days in UTC;
- `#tag`: posts with that hashtag;
- Rounds' own: `domain:host` (by authors of that instance, this one's authority for ours),
  `is:article` (articles and pages only), `community:name` or `community:name@host` (the posts
  that community announced: its threads and their replies).
A bad operator value is a 400 that says which. With `resolve=true` a `user@host` query is
looked up over WebFinger and an http(s) URL is fetched as a post or an actor, before anything
is read here and outside any transaction. Whatever cannot be resolved gives empty results, not
an error: a peer being down is not the caller's mistake. The web pages' search parses its
query with `parse_query` and searches with `search`, as these handlers do.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from aiohttp import web

from federation.social.access import can_see, may_reach
from federation.remote.resolve import RemoteError, ensure_post, resolve_account, resolve_actor
from server.access import request_reader
from server.api.auth import ApiError
from server.api.common import add_route, api, optional_viewer, viewer
from server.api.entities import render
from server.api.tags import tag_entities
from server.api.params import bool_param, whole_number
from server.appkeys import DATABASE, FEDERATION, URLS
from server.responses import json_response
from storage import accounts_api as q
from storage.communities import is_local_only_actor
from storage.models import Actor, ActorType, Object
from storage.search import PostSearch, search_posts

log = logging.getLogger(__name__)
ACCT = re.compile(r"@?([\w.-]+)@([\w.-]+(?::\d+)?)")
KINDS = ("accounts", "statuses", "hashtags")
TERM = re.compile(r'"([^"]*)"?|(\S+)')
HAS = {"media": "has_media", "poll": "has_poll"}


@dataclass(frozen=True)
class PostTerms:
    """The statuses part of `q`: its words, phrases and operators (module docstring), `from:`'s
    author as typed (without a leading '@'), and `community:`'s, to be looked up."""

    search: PostSearch = field(default_factory=PostSearch)
    author: str | None = None
    community: str | None = None


@dataclass(frozen=True)
class Query:
    text: str
    kinds: tuple[str, ...]
    resolve: bool
    limit: int
    offset: int
    following: bool
    account_id: int | None
    terms: PostTerms = field(default_factory=PostTerms)


def _day(operator: str, value: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), time.min, tzinfo=timezone.utc)
    except ValueError:
        raise ApiError(400, f"{operator}: takes a day as YYYY-MM-DD, not {value!r}") from None


def parse_terms(text: str) -> PostTerms:
    """The words, phrases and operators of a statuses search; ApiError 400 for a bad operator value."""
    found: dict[str, Any] = {"words": [], "tags": []}
    for phrase, token in TERM.findall(text):
        operator, _, value = token.partition(":") if token else ("", "", "")
        operator = operator.lower()
        if phrase or not token:
            found["words"].append(phrase)
        elif token.startswith("#") and len(token) > 1:
            found["tags"].append(token[1:].lower())
        elif operator == "from" and value:
            found["author"] = value.lstrip("@")
        elif operator == "has":
            if value.lower() not in HAS:
                raise ApiError(400, f"has: takes {' or '.join(HAS)}, not {value!r}")
            found[HAS[value.lower()]] = True
        elif operator in ("before", "after", "during"):
            day = _day(operator, value)
            if operator in ("after", "during"):
                found["since"] = day + timedelta(days=1) if operator == "after" else day
            if operator in ("before", "during"):
                found["until"] = day + timedelta(days=1) if operator == "during" else day
        elif operator == "domain" and value:
            found["domain"] = value.lower()
        elif operator == "is":
            if value.lower() != "article":
                raise ApiError(400, f"is: takes article, not {value!r}")
            found["articles_only"] = True
        elif operator == "community" and value:
            found["community"] = value.lstrip("@").lower()
        else:
            found["words"].append(token)
    words = tuple(word for word in found.pop("words") if re.search(r"\w", word))
    author, community = found.pop("author", None), found.pop("community", None)
    return PostTerms(PostSearch(words=words, tags=tuple(found.pop("tags")), **found), author, community)


def parse_query(values: Mapping[str, str], *, default_limit: int, max_limit: int,
                kinds: tuple[str, ...] = KINDS) -> Query:
    """The search parameters (q, type, resolve, limit, offset, following, account_id); ApiError 400
    for a missing `q` or a bad value."""
    text = values.get("q", "").strip()
    if not text:
        raise ApiError(400, "q is missing: give the text to search for")
    kind = values.get("type", "")
    if kind and kind not in kinds:
        raise ApiError(400, f"type must be one of {', '.join(kinds)}")
    account_id = values.get("account_id", "")
    known_id = account_id.isdigit() and len(account_id) <= 19 and int(account_id) < 1 << 63
    kinds = (kind,) if kind else kinds
    return Query(
        text=text, kinds=kinds, resolve=bool_param(values, "resolve"),
        limit=max(1, min(whole_number(values, "limit", default_limit), max_limit)), offset=whole_number(values, "offset", 0),
        following=bool_param(values, "following"),
        account_id=int(account_id) if known_id else None,
        terms=parse_terms(text) if "statuses" in kinds else PostTerms(),
    )


async def _resolve(request: web.Request, query: Query) -> tuple[Actor | None, Object | None]:
    """The actor or post the query names over federation (a URL or user@host), if any."""
    fed = request.app[FEDERATION]
    text = query.text
    actor: Actor | None = None
    post: Object | None = None
    if text.startswith(("https://", "http://")):
        if "statuses" in query.kinds:
            try:
                post = await ensure_post(fed, text)
            except RemoteError as exc:
                log.info("search %r resolved no post: %s", text, exc)
                post = None
        if post is None and "accounts" in query.kinds:
            try:
                actor = await resolve_actor(fed, text)
            except RemoteError as exc:
                log.info("search %r resolved no account: %s", text, exc)
                actor = None
    elif ACCT.fullmatch(text) and "accounts" in query.kinds:
        try:
            actor = await resolve_account(fed, text)
        except RemoteError as exc:
            log.info("search %r resolved nothing: %s", text, exc)
            actor = None
    return actor, post


async def _accounts(session, query: Query, me: Actor | None, users: bool) -> list[Actor]:
    """`users`: the reader is one of the instance's users, who alone may find its
    institution-only communities."""
    text = query.text.removeprefix("acct:").lstrip("@")
    username, _, domain = text.partition("@") if ACCT.fullmatch(text) else (text, "", "")
    return await q.search_accounts(
        session, username, domain or None, limit=query.limit, offset=query.offset,
        followed_by=me.id if me is not None and query.following else None, institution_only=users,
    )


async def _statuses(request: web.Request, session, query: Query, me: Actor) -> list[Object]:
    """The posts `me` may see that the query's words and operators find, best first."""
    terms = query.terms
    author_id = query.account_id
    if terms.author is not None:
        if terms.author.lower() == "me":
            author = me
        else:
            username, _, domain = terms.author.partition("@")
            author = await q.actor_by_acct(session, username, domain or None, request.app[URLS].authority)
        if author is None or (author_id is not None and author_id != author.id):
            return []  # no such author here: none of its posts either
        author_id = author.id
    community_id = None
    if terms.community is not None:
        username, _, domain = terms.community.partition("@")
        community = await q.actor_by_acct(session, username, domain or None, request.app[URLS].authority)
        if community is None or community.type is not ActorType.Group:
            return []  # no such community known here: none of its posts either
        community_id = community.id
    search_for = replace(terms.search, author_id=author_id, community_id=community_id)
    if search_for == PostSearch():
        return []  # nothing to look for (punctuation alone)
    return await search_posts(session, search_for, me.id, limit=query.limit, offset=query.offset)


async def search(request: web.Request, query: Query, me: Actor | None) -> dict[str, Any]:
    """The Search entity: accounts, statuses and hashtags `me` may see (resolved over federation
    first when the query asks to)."""
    resolved_actor, resolved_post = await _resolve(request, query) if query.resolve else (None, None)
    link = query.text.startswith(("https://", "http://"))
    users = may_reach(True, await request_reader(request))
    async with request.app[DATABASE].sessions() as session:
        actors: list[Actor] = []
        posts: list[Object] = []
        tags: list[str] = []
        if link:  # a URL names one thing: what we already have, or what resolving found
            resolved_post = resolved_post or (await q.post_by_link(session, query.text)
                                              if "statuses" in query.kinds else None)
            if resolved_post is None and "accounts" in query.kinds:
                resolved_actor = resolved_actor or await q.actor_by_link(session, query.text)
        else:
            if "accounts" in query.kinds:
                actors = await _accounts(session, query, me, users)
            if "statuses" in query.kinds and me is not None:
                posts = await _statuses(request, session, query, me)
            if "hashtags" in query.kinds:
                tags = await q.search_tags(session, query.text, limit=query.limit, offset=query.offset)
        # what resolving found, or a link named, is hidden like the rest when its peer is blocked
        blocked = await q.on_blocked_peers(session, {row.actor_id for row in [resolved_post] if row is not None}
                                           | {row.id for row in [resolved_actor] if row is not None})
        if resolved_actor is not None and (resolved_actor.id in blocked or not users and resolved_actor.local
                                           and await is_local_only_actor(session, resolved_actor.id)):
            resolved_actor = None
        if resolved_post is not None and resolved_post.actor_id in blocked:
            resolved_post = None
        if resolved_actor is not None and query.offset == 0:
            actors = [resolved_actor, *[a for a in actors if a.id != resolved_actor.id]][:query.limit]
        if resolved_post is not None and me is not None and await can_see(session, resolved_post, me):
            posts = [resolved_post]
        entities = await render(request, me, lambda renderer: {
            "accounts": renderer.accounts(actors), "statuses": renderer.statuses(posts)}, session)
        return {
            **entities,
            "hashtags": await tag_entities(request, session, tags, me),
        }


@api
async def search_v2(request: web.Request) -> web.Response:
    me = await optional_viewer(request, "read:search")
    query = parse_query(request.query, default_limit=20, max_limit=40)
    if me is None and query.resolve:
        raise ApiError(401, "Search queries that resolve remote resources need an authenticated user")
    if me is None and query.offset:
        raise ApiError(401, "Paging search results needs an authenticated user")
    return json_response(await search(request, query, me))


@api
async def search_accounts(request: web.Request) -> web.Response:
    _caller, me = await viewer(request, "read:accounts")
    query = parse_query(request.query, default_limit=40, max_limit=80, kinds=("accounts",))
    return json_response((await search(request, query, me))["accounts"])


def setup(app: web.Application) -> None:
    """Register this module's routes."""
    add_route(app, "GET", "/api/v2/search", search_v2)
    add_route(app, "GET", "/api/v1/accounts/search", search_accounts)
