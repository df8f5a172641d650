"""Communities of practice (FEP-1b12): Group actors hosted here, who may join and post, who
moderates, and the relay of members' posts to every member.

The decision to know: a community's membership is the follows of its Group actor, so a join is a
Follow whoever sends it (a peer's Follow, or a local user's follow through the client API), and
the group's followers collection is its member list. `groups` makes and changes communities,
`membership` answers joins and removes or bans members, `relay` announces members' posts.
"""
