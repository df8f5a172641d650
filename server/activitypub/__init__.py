"""ActivityPub routes: actors, collections and (later) inboxes, with content negotiation."""
