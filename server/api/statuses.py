"""Mastodon client API: statuses (being built)."""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register this module's routes."""
