"""Key pairs: RSA-2048, private keys parsed once and cached."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from federation.protocol.keys import generate_rsa_keypair, load_private_key, load_public_key
from storage.ids import new_id


def test_generated_keys_are_rsa_2048_and_match():
    pair = generate_rsa_keypair()
    private = load_private_key(pair.private_pem)
    public = load_public_key(pair.public_pem)
    assert isinstance(private, rsa.RSAPrivateKey) and private.key_size == 2048
    assert private.public_key().public_numbers() == public.public_numbers()


def test_private_key_is_parsed_once():
    pair = generate_rsa_keypair()
    before = load_private_key.cache_info().misses
    first = load_private_key(pair.private_pem)
    second = load_private_key(pair.private_pem)
    assert first is second
    assert load_private_key.cache_info().misses == before + 1


def test_garbage_public_key_is_a_value_error():
    with pytest.raises(ValueError):
        load_public_key("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----")


def test_ids_placed_at_the_same_time_never_collide():
    at = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
    placed = {new_id(at=at)}
    time.sleep(0.002)
    new_id()  # a fresh id in between must not reset what placed ids count with
    placed |= {new_id(at=at) for _ in range(1000)}
    assert len(placed) == 1001
