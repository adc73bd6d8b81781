"""WeCom (企业微信) callback security, exactly as WeCom documents it (加解密方案说明).

- Signature: ``msg_signature = sha1(sort([token, timestamp, nonce, encrypt]) joined)`` (hex).
- Key: ``AESKey = base64_decode(EncodingAESKey + "=")`` — 32 bytes; AES-256-CBC, IV = first 16 bytes.
- Plaintext: ``random(16) + msg_len (4 bytes, network order) + msg + receiveid``, padded with
  PKCS#7 to a multiple of **32** (not AES's 16), so the padding byte is 1..32.
- ``receiveid`` is the CorpID for application callbacks; it must match, or the message was meant
  for another corp.

AES comes from the ``cryptography`` package; nothing cryptographic is hand-rolled here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


class WeComCryptoError(ValueError):
    """Bad signature, key or ciphertext; the message says which."""


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def aes_key(encoding_aes_key: str) -> bytes:
    if len(encoding_aes_key) != 43:
        raise WeComCryptoError(f"EncodingAESKey must be 43 characters, got {len(encoding_aes_key)}")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WeComCryptoError(f"EncodingAESKey is not base64: {exc}") from exc
    if len(key) != 32:  # pragma: no cover - 43 base64 chars + "=" always decode to 32 bytes
        raise WeComCryptoError("EncodingAESKey does not decode to 32 bytes")
    return key


class WeComCrypto:
    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        self.token = token
        self.key = aes_key(encoding_aes_key)
        self.receive_id = receive_id

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = signature(self.token, timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected.encode(), (msg_signature or "").lower().encode()):
            raise WeComCryptoError("msg_signature does not match (wrong Token, or the request was altered)")

    def decrypt(self, encrypted: str) -> bytes:
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise WeComCryptoError(f"Encrypt is not base64: {exc}") from exc
        if not data or len(data) % 16:
            raise WeComCryptoError(f"ciphertext length {len(data)} is not a positive multiple of 16")
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise WeComCryptoError("bad padding (wrong EncodingAESKey?)")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise WeComCryptoError("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise WeComCryptoError("message length field exceeds the plaintext")
        message, receive_id = plain[20 : 20 + length], plain[20 + length :]
        if self.receive_id and receive_id.decode("utf-8", "replace") != self.receive_id:
            raise WeComCryptoError("receiveid does not match corp_id (message for another corp)")
        return message

    def encrypt(self, message: bytes, *, random16: bytes | None = None) -> str:
        """For passive replies (and round-trip checks): the same scheme in the other direction."""
        body = (random16 or os.urandom(16)) + struct.pack(">I", len(message)) + message + self.receive_id.encode()
        pad = BLOCK - len(body) % BLOCK
        body += bytes([pad]) * pad
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).encryptor()
        return base64.b64encode(encryptor.update(body) + encryptor.finalize()).decode()
