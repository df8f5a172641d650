"""Activity handlers: one module per type, and the registry that maps a type to its module.

A handler module has `handle(ctx)`, run inside the worker's transaction with no network
access, and may have `prefetch(fed, activity)`, run before it to fetch what it needs from peers;
what prefetch returns is `ctx.prepared`. A module with prefetch may have `looks_up(activity)`, the
posts its prefetch looks for in the database first: the worker then waits for an earlier item
storing one of them to commit before running it. A type missing from the registry is recorded as ignored.
"""

from __future__ import annotations

from types import ModuleType

from federation.inbox.handlers import (
    accept,
    add,
    announce,
    block,
    create,
    delete,
    flag,
    follow,
    like,
    move,
    quote_request,
    remove,
    undo,
    update,
)

HANDLERS: dict[str, ModuleType] = {
    "Follow": follow,
    "Accept": accept,
    "Reject": accept,
    "Undo": undo,
    "Create": create,
    "Update": update,
    "Delete": delete,
    "Announce": announce,
    "Like": like,
    "Block": block,
    "Add": add,
    "Remove": remove,
    "QuoteRequest": quote_request,
    "Flag": flag,
    "Move": move,
}
