"""The suite's actor keys (tests/keypool.py): pooled per test process to save RSA generation,
yet no two local actors made in one test share a pair, on one instance or across two. A real
`rounds` process generates fresh pairs (tests/test_cli.py checks the pairs it made)."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import select

from federation.protocol.keys import actor_keys_from, generate_rsa_keypair, load_private_key, load_public_key, new_actor_keypair
from storage.models import Actor


async def _local_pairs(instance) -> list[tuple[str, str, str]]:
    async with instance.db.sessions() as session:
        rows = await session.execute(
            select(Actor.username, Actor.public_key_pem, Actor.private_key_pem).where(Actor.local.is_(True)))
        return [tuple(row) for row in rows]


async def test_no_two_local_actors_share_a_key_on_one_instance_or_two(instances):
    # Given two instances, each with its instance actor and four users
    a, b = await instances.start("a"), await instances.start("b")
    for name in ("alice", "bob", "carol", "dave"):
        await a.add_user(name)
        await b.add_user(name)

    # Then each of the ten actors holds a pair of its own
    on_a, on_b = await _local_pairs(a), await _local_pairs(b)
    assert len(on_a) == len(on_b) == 5
    assert len({public for _, public, _ in on_a}) == 5
    assert len({public for _, public, _ in on_a + on_b}) == 10
    assert len({private for _, _, private in on_a + on_b}) == 10
    # And each private key signs what its own public key verifies
    message = b"(request-target): post /inbox"
    for _, public, private in on_a + on_b:
        signature = load_private_key(private).sign(message, padding.PKCS1v15(), hashes.SHA256())
        load_public_key(public).verify(signature, message, padding.PKCS1v15(), hashes.SHA256())


def test_a_key_factory_holds_only_while_its_context_lasts():
    made = []

    def factory():
        made.append(generate_rsa_keypair())
        return made[-1]

    before = new_actor_keypair()
    with actor_keys_from(factory):
        inside = new_actor_keypair()
    after = new_actor_keypair()
    assert made == [inside]
    assert len({before, inside, after}) == 3
