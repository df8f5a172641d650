"""What a practitioner types becomes a post: text to safe HTML, with @mentions and #hashtags
linked. Mentions are found first (`mentions_in`) so the caller can resolve remote ones over the
network before it opens the write transaction."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from federation.social.polls import NewPoll
from storage.models import Actor, Visibility

# a username may have inner hyphens (a community: @wound-care), never a leading or trailing one
MENTION_RE = re.compile(r"(?<![\w/@])@([a-zA-Z0-9_](?:[a-zA-Z0-9_-]{0,28}[a-zA-Z0-9_])?)(?![\w-]*[\w])(?:@([a-zA-Z0-9.-]+\.[a-zA-Z]{2,}(?::\d+)?|[0-9.]+:\d+|localhost:\d+))?")
HASHTAG_RE = re.compile(r"(?<![\w/&#])#(\w{1,100})")
URL_RE = re.compile(r"https?://[^\s<>\"]+")


@dataclass(frozen=True)
class Draft:
    """A post or an edit as a client asked for it: the text as typed, its uploads by id and the
    post it answers by id, none of them resolved or checked yet (the outbox does that)."""

    text: str
    summary: str = ""
    sensitive: bool = False
    language: str | None = None
    media_ids: tuple[str, ...] = ()
    visibility: Visibility = Visibility.public
    in_reply_to_id: str | None = None
    poll: NewPoll | None = None
    application_id: int | None = None  # the OAuth app it came from (none from the web pages)
    quoted_status_id: str | None = None  # the post it quotes (federation.social.quotes)
    quote_policy: str | None = None  # who may quote it: public, followers, nobody (None: public)
    local_only: bool = False  # institution-only: never leaves the instance (federation.outbox.audience)
    # an edit's changes to its uploads: id -> (description, focal point), None where unchanged
    media_edits: tuple[tuple[str, str | None, tuple[float, float] | None], ...] = ()


def mentions_in(text: str) -> list[tuple[str, str | None]]:
    """(username, host or None) of each @mention, in order, without repeats."""
    return list(dict.fromkeys((m.group(1).lower(), (m.group(2) or "").lower() or None) for m in MENTION_RE.finditer(text)))


def hashtags_in(text: str) -> list[str]:
    return list(dict.fromkeys(tag.lower() for tag in HASHTAG_RE.findall(text)))


def text_to_html(text: str, mentions: dict[tuple[str, str | None], Actor], tag_url: str) -> str:
    """Paragraphs and line breaks, links, and linked mentions and hashtags; everything escaped."""
    def paragraph(block: str) -> str:
        out, position = [], 0
        tokens = sorted(
            [(m.start(), m.end(), "url", m) for m in URL_RE.finditer(block)]
            + [(m.start(), m.end(), "mention", m) for m in MENTION_RE.finditer(block)]
            + [(m.start(), m.end(), "tag", m) for m in HASHTAG_RE.finditer(block)],
            key=lambda t: t[0],
        )
        for start, end, kind, match in tokens:
            if start < position:
                continue
            out.append(html.escape(block[position:start]).replace("\n", "<br>"))
            out.append(_link(kind, match, mentions, tag_url))
            position = end
        out.append(html.escape(block[position:]).replace("\n", "<br>"))
        return "".join(out)

    blocks = [b for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    return "".join(f"<p>{paragraph(block)}</p>" for block in blocks)


def _link(kind: str, match: re.Match, mentions: dict, tag_url: str) -> str:
    text = html.escape(match.group(0))
    if kind == "url":
        return f'<a href="{text}" rel="nofollow noopener noreferrer" target="_blank">{text}</a>'
    if kind == "tag":
        name = match.group(1).lower()
        return f'<a href="{html.escape(tag_url)}/{html.escape(name)}" class="mention hashtag" rel="tag">#<span>{html.escape(match.group(1))}</span></a>'
    actor = mentions.get((match.group(1).lower(), (match.group(2) or "").lower() or None))
    if actor is None:
        return text
    return (f'<span class="h-card"><a href="{html.escape(actor.url or actor.uri)}" class="u-url mention">'
            f"@<span>{html.escape(actor.username)}</span></a></span>")
