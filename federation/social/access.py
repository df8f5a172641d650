"""Who may read what: the one home of the rule, in two parts.

`may_read` says whether a kind of reader may read a kind of route at all: anonymous, an app-only
token, a user's (or an admin's) token, or a GET signed by a peer the policy allows. Every GET
route declares its kind (`Reads`, in server/access.py's table) and the server asks `may_read`
before the handler runs, so the answer is the same on every route, and a route that declares
nothing is refused.

`can_see` then says whether one post may be shown to one viewer. Public and unlisted posts:
anyone `may_read` lets in. Followers-only: the author, the mentioned, and accepted followers.
Direct: the author and the mentioned. An institution-only (`local_only`) post, whatever its
visibility, only ever to the instance's own users: never to an anonymous caller, never to a peer.

`may_reach` and `stays_home` are the institution-only rule: an institution-only community (and
every post addressed to it) never leaves the instance. Its documents are read by none but the
instance's own users (never a peer, an app or an anonymous reader: no ActivityPub document, no
WebFinger answer), and nothing it sends or a member posts to it is delivered to a peer.

`institution_only` says which new posts are institution-only: those asked to be, replies to one,
and those addressed to an institution-only community hosted here. The post carries the mark, so
the rest follows from it alone: `can_see` and the read rule's SQL, the audience (nothing about
it is delivered, whoever replies, likes or boosts), the documents served. A community hosted
here, federated or not, relays an institution-only post to its members here as it relays any
other (its Announce is in their homes and in the community's threads): its members elsewhere
hear nothing of it, since the Announce is about an institution-only post (`outbox.audience`),
and its outbox and collections never list it.

The decision to know: in allowlist mode the instance's content is for its users and its peers.
Anyone can register an app and get an app-only token, so such a token reads no more than no
token at all. What an app needs before anyone logs in (the instance documents, app
registration, OAuth), discovery (WebFinger, NodeInfo, host-meta, the actors' keys) and health
stay open in every mode.
"""

from __future__ import annotations

import enum

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from storage.accounts_api import follows
from storage.communities import is_local_only_actor
from storage.models import Actor, ActorType, Object, Visibility
from storage.posts import is_mentioned


class Reader(enum.Enum):
    """Who is reading, as far as the rule needs to know."""

    anonymous = "anonymous"  # no token and no signature
    app = "app"              # an app-only token (client credentials: anyone can get one)
    user = "user"            # a token acting for one of the instance's users
    moderator = "moderator"  # ... for one of its moderators (users and queues, from the admin pages)
    admin = "admin"          # a token acting for one of its admins
    peer = "peer"            # an ActivityPub GET signed by a peer the policy allows (or this instance)


class Reads(enum.Enum):
    """What a GET route serves, which decides who may read it."""

    open = "open"                  # what an app needs to log in, discovery, health, static assets
    media = "media"                # a media file, by its unguessable name (a capability, as on Mastodon)
    own = "own"                    # the caller's own things: any token; the handler finds whose (an app's: none)
    admin = "admin"                # the admin API
    content = "content"            # posts, accounts and their lists, polls, search, public and tag timelines
    stream = "stream"              # content, streamed (its token may come in the query or the WebSocket protocol)
    peers = "peers"                # the instance's list of peers: the consortium
    federation = "federation"      # ActivityPub documents: posts, activities, collections
    actor = "actor"                # a local actor: its key to anyone, in full only where `federation` is readable
    profile_page = "profile_page"  # an HTML profile
    post_page = "post_page"        # an HTML page of a public post
    signed_in_page = "signed_in_page"  # a web page for a practitioner signed in with a session cookie
    tag_page = "tag_page"          # a hashtag's page: signed-in practitioners; anyone when all public pages are on
    # --- the admin console: web pages, read with the session cookie like signed_in_page ---
    moderator_page = "moderator_page"  # users, queues and the audit log: moderators and admins
    admin_page = "admin_page"          # peers, instance settings: admins only
    admin_download = "admin_download"  # a file the console serves (the peer lists' CSV): admins only


TOKENS = frozenset({Reader.app, Reader.user, Reader.moderator, Reader.admin})
USERS = frozenset({Reader.user, Reader.moderator, Reader.admin})
MODERATORS = frozenset({Reader.moderator, Reader.admin})


def may_read(reads: Reads, reader: Reader, *, mode: str, public_pages: str) -> bool:
    """Whether `reader` may read a route of kind `reads`, in federation `mode` (allowlist,
    blocklist, open) with [web] public_pages `public_pages` (off, profiles, all).

    A reader who shows more (a token rather than none, a user's rather than an app's, an
    admin's rather than a user's, a valid signature rather than none) is never let in less: the
    server relies on that to look a token up, or check a signature, only when the answer
    depends on it."""
    allowlist = mode == "allowlist"
    match reads:
        case Reads.open | Reads.media | Reads.actor:
            return True
        case Reads.own:
            return reader in TOKENS
        case Reads.admin:
            return reader is Reader.admin
        case Reads.content | Reads.stream:
            return not allowlist or reader in USERS
        case Reads.peers:
            return not allowlist or reader is Reader.admin
        case Reads.federation:
            return not allowlist or reader is Reader.peer
        case Reads.profile_page:
            return public_pages in ("profiles", "all")
        case Reads.post_page:
            return public_pages == "all"
        case Reads.signed_in_page:
            return reader in USERS
        case Reads.tag_page:
            return reader in USERS or public_pages == "all"
        case Reads.moderator_page:
            return reader in MODERATORS
        case Reads.admin_page | Reads.admin_download:
            return reader is Reader.admin
    raise ValueError(f"no read rule for {reads}")


def is_ours(viewer: Actor | None) -> bool:
    """Whether `viewer` is one of the instance's users (a local person), who alone may read its
    institution-only posts."""
    return viewer is not None and viewer.local and viewer.type is ActorType.Person and viewer.deleted_at is None


async def can_see(session: AsyncSession, post: Object, viewer: Actor | None) -> bool:
    if post.deleted_at is not None:
        return False
    if post.local_only and not is_ours(viewer):
        return False
    if post.visibility in (Visibility.public, Visibility.unlisted):
        return True
    if viewer is None:
        return False
    if viewer.id == post.actor_id:
        return True
    if await is_mentioned(session, post.id, viewer.id):
        return True
    if post.visibility is Visibility.private:
        return await follows(session, viewer.id, post.actor_id)
    return False


def may_reach(local_only: bool, reader: Reader) -> bool:
    """Whether `reader` may learn of a local actor at all: an institution-only community is for
    the instance's users only."""
    return not local_only or reader in USERS


async def stays_home(session: AsyncSession, sender: Actor, recipients: Iterable[Actor] = ()) -> bool:
    """Whether an activity from `sender` to `recipients` must not leave the instance: the sender,
    or one of the recipients, is an institution-only community hosted here. Only local groups are
    looked up, so a practitioner's ordinary post costs nothing."""
    for actor in (sender, *recipients):
        if actor.local and actor.type is ActorType.Group and await is_local_only_actor(session, actor.id):
            return True
    return False


async def institution_only(session: AsyncSession, author: Actor, *, asked: bool, in_reply_to: Object | None,
                           recipients: Iterable[Actor], quoted: Object | None = None) -> bool:
    """Whether a new post by `author` (a local user) is institution-only: `asked`, or a reply to
    an institution-only post, or a quote of one (the quote shows it), or addressed to an
    institution-only community hosted here (among `recipients`: whom it mentions, and the
    communities of its thread)."""
    if asked or any(post is not None and post.local_only for post in (in_reply_to, quoted)):
        return True
    return await stays_home(session, author, recipients)
