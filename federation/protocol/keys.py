"""Actor key pairs: generation, and a cache of loaded private keys.

Parsing a PEM private key costs about 50 ms here, so each distinct key is parsed once per
process and kept (`load_private_key` is memoised on the PEM text). Public keys parse in
microseconds and are cached alongside for the verifier.
"""

from __future__ import annotations

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
