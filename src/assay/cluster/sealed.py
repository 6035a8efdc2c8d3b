"""Sealing the run's settings for one worker: X25519 + HKDF-SHA256 + AES-GCM (an ECIES "sealed box").

Why: whatever Ray carries can be seen or kept somewhere — task and actor arguments (in the GCS, the state
API, the dashboard), the object store and its spill files, ``runtime_env``, job metadata, logs. Credentials
reach a worker only as ciphertext that the worker alone can open: it makes a key pair when it starts, hands
out the public half, and its private half never leaves its process memory. Each sealing uses a fresh
ephemeral key, so two workers' payloads share nothing.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

_INFO = b"assay cluster settings v1"
_KEY_BYTES = 32
_NONCE_BYTES = 12


def _raw(public: X25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _aead_key(private: X25519PrivateKey, peer: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    shared = private.exchange(X25519PublicKey.from_public_bytes(peer))
    return HKDF(SHA256(), _KEY_BYTES, salt=ephemeral + recipient, info=_INFO).derive(shared)


def seal(recipient: bytes, payload: bytes) -> bytes:
    """``payload`` readable only by the holder of the private key behind ``recipient`` (32 raw bytes)."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = _raw(ephemeral.public_key())
    key = _aead_key(ephemeral, recipient, ephemeral_public, recipient)
    nonce = os.urandom(_NONCE_BYTES)
    return ephemeral_public + nonce + AESGCM(key).encrypt(nonce, payload, ephemeral_public + recipient)


class Opener:
    """A worker's key pair: ``public`` is handed out, :meth:`open` reads what was sealed for it."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

        self._private = X25519PrivateKey.generate()
        self.public = _raw(self._private.public_key())

    def open(self, sealed: bytes) -> bytes:
        """The payload; ``cryptography.exceptions.InvalidTag`` if it was not sealed for this key or was altered."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        ephemeral = sealed[:_KEY_BYTES]
        nonce = sealed[_KEY_BYTES:_KEY_BYTES + _NONCE_BYTES]
        key = _aead_key(self._private, ephemeral, ephemeral, self.public)
        return AESGCM(key).decrypt(nonce, sealed[_KEY_BYTES + _NONCE_BYTES:], ephemeral + self.public)
