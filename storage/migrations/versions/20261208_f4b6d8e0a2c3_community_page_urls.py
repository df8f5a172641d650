"""a community's profile address is its page, /communities/NAME

Revision ID: f4b6d8e0a2c3
Revises: e1f3a5c7b9d2
Create Date: 2026-12-08 08:00:00.000000

A community's Group actor was made with the profile address of a person, /@NAME, which shows no
page for a Group (it has no account). Its `url` (what peers link to, and what the client API
shows as the account's `url`) becomes its page, /communities/NAME; new communities are made so
(federation.communities.groups.create). Peers read it when they next fetch the Group; an old
/@NAME link still leads to the page (server.web.pages.render_profile) where public pages are on.
"""

from alembic import op
from sqlalchemy import text

revision = 'f4b6d8e0a2c3'
down_revision = 'e1f3a5c7b9d2'
branch_labels = None
depends_on = None

_GROUPS = "local = true AND id IN (SELECT actor_id FROM communities)"


def _moved(old: str, new: str) -> str:
    """The UPDATE that replaces a url's last part `old || username` with `new || username`
    (nothing before it, even a public_url with the same text in it, is touched)."""
    tail = f"(length(username) + {len(old)})"
    return (f"UPDATE actors SET url = substr(url, 1, length(url) - {tail}) || '{new}' || username "
            f"WHERE {_GROUPS} AND substr(url, length(url) - {tail} + 1) = '{old}' || username")


def upgrade() -> None:
    op.execute(text(_moved("/@", "/communities/")))


def downgrade() -> None:
    op.execute(text(_moved("/communities/", "/@")))
