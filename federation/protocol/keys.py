"""Actor key pairs: generation, and a cache of loaded private keys.

Parsing a PEM private key costs about 50 ms here, so each distinct key is parsed once per
process and kept (`load_private_key` is memoised on the PEM text). Public keys parse in
microseconds and are cached alongside for the verifier.

A new local actor's key pair comes from `new_actor_keypair`, which a server always answers with
a fresh RSA-2048 pair. `actor_keys_from` is the seam for the test suite, which starts thousands
of instances and users: while it lasts, the pairs come from the given factory instead (the tests
hand out distinct pairs from a pool generated once per process, tests/keypool.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    PrivateKeyTypes,
    PublicKeyTypes,
)


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def generate_rsa_keypair(bits: int = 2048) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    return KeyPair(private_pem, public_pem)


KeyFactory = Callable[[], KeyPair]
_actor_key_factory: KeyFactory = generate_rsa_keypair


def new_actor_keypair() -> KeyPair:
    """The key pair for a new local actor (a user, a community, the instance actor): a fresh
    RSA-2048 pair, unless `actor_keys_from` says otherwise."""
    return _actor_key_factory()


@contextmanager
def actor_keys_from(factory: KeyFactory) -> Iterator[None]:
    """Take new local actors' key pairs from `factory` while the context lasts (for tests; the
    factory must never give one pair twice)."""
    global _actor_key_factory
    previous, _actor_key_factory = _actor_key_factory, factory
    try:
        yield
    finally:
        _actor_key_factory = previous


@lru_cache(maxsize=4096)
def load_private_key(pem: str) -> PrivateKeyTypes:
    return serialization.load_pem_private_key(pem.encode("ascii"), password=None)


@lru_cache(maxsize=16384)
def load_public_key(pem: str) -> PublicKeyTypes:
    """Parse a PEM public key (SPKI, or PKCS#1 for RSA); raise ValueError if it is not one."""
    key = serialization.load_pem_public_key(pem.strip().encode("ascii", "replace"))
    if not isinstance(key, (rsa.RSAPublicKey, ed25519.Ed25519PublicKey)):
        raise ValueError(f"unsupported key type {type(key).__name__}")
    return key
