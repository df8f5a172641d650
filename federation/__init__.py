"""The ActivityPub protocol and Rounds' domain rules, in rooms:

    protocol/  signatures, keys, the guarded HTTP client and fetcher, vocab (parse and render)
    remote/    what other servers' actors and posts are trusted for: fetch, check, bound, store
    inbox/     intake of signed POSTs, the inbox queue's worker, one handler per activity type
    outbox/    local actions become activities; their audience; the delivery worker
    peers/     which servers we federate with: policy, admin decisions, lists, knocks, greeting
    social/    the hospital's social domain: accounts, posts, follows, polls, media,
               notifications, home feeds, streams, who may read what
    admin/     the admin's hand on users and queues, and the audit log
    runtime/   one process's wiring: settings, clock, the shared context, the workers

Uses the aiohttp *client* and `storage`; never `aiohttp.web` and never `server`. docs/ARCHITECTURE.md
says which way data flows through the rooms and where new code goes.
"""
