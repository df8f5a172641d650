"""An article's Markdown as sanitised HTML.

CommonMark (markdown-it-py) with tables and strikethrough; raw HTML in the source is not passed
through (it shows as text), and the result goes through the article sanitiser all the same, so a
`javascript:` link, a script or a frame never survives whatever the renderer does.
"""

from __future__ import annotations

import html

from markdown_it import MarkdownIt

from federation.protocol.sanitize import sanitize_article_html

_RENDERER = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"])


def markdown_to_html(source: str) -> str:
    return sanitize_article_html(_RENDERER.render(source or ""))


def references_html(references: list[str]) -> str:
    """The references as the body's last section: a numbered list, each item inline Markdown
    (a link may be written `[title](https://...)`)."""
    if not references:
        return ""
    items = "".join(f"<li>{_RENDERER.renderInline(reference)}</li>" for reference in references)
    return sanitize_article_html(f"<h2>References</h2><ol>{items}</ol>")


def article_html(source: str, references: list[str]) -> str:
    """The whole body a reader sees: the Markdown, then the references."""
    return markdown_to_html(source) + references_html(references)


def presentation_html(title: str, summary: str, link: str) -> str:
    """What a microblog server (and the client API) shows of an article: its title in bold, its
    summary, a link to it. Escaped here; the caller stores it as a post's HTML."""
    parts = [f"<p><strong>{html.escape(title)}</strong></p>"]
    if summary.strip():
        parts.append(f"<p>{html.escape(summary.strip())}</p>")
    parts.append(f'<p><a href="{html.escape(link)}">{html.escape(link)}</a></p>')
    return "".join(parts)
