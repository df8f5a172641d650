"""Actor key pairs for the test suite, generated once per test process and handed out again in
every test.

Generating an RSA-2048 pair costs about 70 ms of CPU, and the suite makes thousands of local
actors (every instance's actor, every user). A `KeyLease` hands out the process's pool from its
first pair on, generating a pair only when the pool runs out, so within one lease (one test,
conftest's `actor_keys` fixture) no two actors share a key, on one instance or across several,
and a later test reuses the same pairs. Fake peers draw from their own fixture keys
(tests/fakepeer.py), so a local actor never holds a fake peer's key either.
"""

from __future__ import annotations

from federation.protocol.keys import KeyPair, generate_rsa_keypair

_POOL: list[KeyPair] = []


class KeyLease:
    """The pool's pairs in order, each once: a key factory for `actor_keys_from`."""

    def __init__(self) -> None:
        self.given = 0

    def __call__(self) -> KeyPair:
        while len(_POOL) <= self.given:
            _POOL.append(generate_rsa_keypair())
        pair = _POOL[self.given]
        self.given += 1
        return pair

