"""Remote HTML is cleaned with nh3 (the Ammonia sanitiser) before it is stored or shown.

The allowed set is what a post needs: paragraphs, line breaks, links, emphasis, lists, quotes,
code, and the microformat classes Mastodon-compatible servers put on mentions and hashtags.
Links get rel="nofollow noopener noreferrer"; only http(s) and mailto links survive.
"""

from __future__ import annotations

import html
import re

import nh3

_TAG_RE = re.compile(r"<[^>]*>")
_TAGS = {
    "p", "br", "a", "span", "strong", "b", "em", "i", "u", "s", "del", "pre", "code",
    "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "sub", "sup",
}
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start", "reversed"}, "li": {"value"}}
_CLASSES = {"a": {"mention", "hashtag", "u-url", "status-link", "unhandled-link"},
            "span": {"h-card", "invisible", "ellipsis", "mention", "hashtag"}}


def _clean(value: str, tags: set[str], attributes: dict[str, set[str]]) -> str:
    if not value:
        return ""
    return nh3.clean(value, tags=tags, attributes=attributes, allowed_classes=_CLASSES,
                     url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener noreferrer",
                     strip_comments=True)


def sanitize_html(value: str) -> str:
    return _clean(value, _TAGS, _ATTRIBUTES)


_ARTICLE_TAGS = _TAGS | {"hr", "table", "thead", "tbody", "tr", "th", "td", "dl", "dt", "dd", "section"}
_ARTICLE_ATTRIBUTES = {**_ATTRIBUTES, "th": {"align"}, "td": {"align"}}


def sanitize_article_html(value: str) -> str:
    """An article's body (ours rendered from Markdown, or a peer's): what a post may hold, plus
    rules, tables and definition lists; no script, frame, style, image or form, only http(s) and
    mailto links."""
    return _clean(value, _ARTICLE_TAGS, _ARTICLE_ATTRIBUTES)


def plain_text(value: str) -> str:
    """Markup taken out, entities read: a content warning is text, whatever markup a peer put in it."""
    return html.unescape(_TAG_RE.sub("", value)).strip()


def plain_to_html(text: str) -> str:
    """Practitioner-typed text as HTML paragraphs (escaped; blank lines split paragraphs)."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
