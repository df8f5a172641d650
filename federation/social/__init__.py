"""The hospital's social domain, whichever side an action came from: accounts and OAuth, posts
and their composition, follows and interactions, polls, media, notifications, home feeds,
streaming events, and `access` (who may read what)."""
