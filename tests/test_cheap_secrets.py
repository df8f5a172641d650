"""What the test process makes cheaper than a server (tests/conftest.py's cheap_secrets): actor
keys pooled per process (tests/keypool.py), yet no two local actors made in one test share a
pair, on one instance or across two; passwords hashed with argon2's least work, yet signing in
still takes the right password alone. A real `rounds` process generates fresh pairs and hashes
with the full work (tests/test_cli.py checks what it stored)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import select

from federation.protocol.keys import actor_keys_from, generate_rsa_keypair, load_private_key, load_public_key, new_actor_keypair
from federation.social.accounts import LoginError, check_login, hash_password, password_hashing
from storage.models import Actor
from tests.conftest import CHEAP_PASSWORD_HASHER


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


async def test_a_cheaply_hashed_password_opens_its_account_alone(instances):
    # Given alice, made in the test process
    a = await instances.start()
    account, _ = await a.add_user("alice", password="a long enough password")
    # Then her hash is argon2id at the least work, and only her password opens her account
    assert account.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    async with a.db.sessions() as session:
        assert (await check_login(session, "alice", "a long enough password", at=a.clock.now())).id == account.id
        for wrong in ("a long enough passwore", "", "A LONG ENOUGH PASSWORD"):
            with pytest.raises(LoginError):
                await check_login(session, "alice", wrong, at=a.clock.now())
        with pytest.raises(LoginError):
            await check_login(session, "nobody", "a long enough password", at=a.clock.now())


def test_a_password_hasher_holds_only_while_its_context_lasts():
    other = PasswordHasher(time_cost=1, memory_cost=16, parallelism=1)
    with password_hashing(other):
        inside = hash_password("correct horse battery")
    after = hash_password("correct horse battery")
    assert inside.startswith("$argon2id$v=19$m=16,t=1,p=1$")
    assert after.startswith("$argon2id$v=19$m=8,t=1,p=1$")  # the test's own, CHEAP_PASSWORD_HASHER
    assert CHEAP_PASSWORD_HASHER.memory_cost == 8


async def test_commits_do_not_wait_for_the_disk(instances):
    # Given an instance of this test process, Then its connections commit as SQLite's WAL at
    # synchronous=NORMAL does (the server's own setting there), and as conftest sets PostgreSQL's
    a = await instances.start()
    async with a.db.engine.connect() as conn:
        if a.db.is_sqlite:
            assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar() == 1
        else:
            assert (await conn.exec_driver_sql("SHOW synchronous_commit")).scalar() == "off"
