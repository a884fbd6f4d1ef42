"""EA09: DEA (single DES). DEPRECATED by IEC 62055-41 (6.5.5): no new product may use it.

Kept in this corner for old meters only. DES comes from cryptography's ``decrepit`` TripleDES
with the key repeated three times (K||K||K is single DES).
"""

from __future__ import annotations

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes


def _cipher(key: bytes) -> Cipher[modes.ECB]:
    if len(key) != 8:
        raise ValueError("DES needs an 8-byte key")
    return Cipher(TripleDES(key * 3), modes.ECB())


def encrypt_bytes(data: bytes, key: bytes) -> bytes:
    """DES-ECB encryption of whole 8-byte blocks."""
    enc = _cipher(key).encryptor()
    return enc.update(data) + enc.finalize()


def decrypt_bytes(data: bytes, key: bytes) -> bytes:
    """DES-ECB decryption of whole 8-byte blocks."""
    dec = _cipher(key).decryptor()
    return dec.update(data) + dec.finalize()


def encrypt_bytes_3des(data: bytes, key: bytes) -> bytes:
    """Two- or three-key triple DES (EDE) in ECB mode, for the deprecated DKGA03."""
    if len(key) not in (16, 24):
        raise ValueError("triple DES needs a 16- or 24-byte key")
    if len(key) == 16:
        key = key + key[:8]  # two-key EDE is K1 K2 K1
    enc = Cipher(TripleDES(key), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def encrypt(block: int, key: bytes) -> int:
    """Encrypt a 64-bit block (big-endian bytes) with single DES."""
    return int.from_bytes(encrypt_bytes(block.to_bytes(8, "big"), key), "big")


def decrypt(block: int, key: bytes) -> int:
    """Decrypt a 64-bit block with single DES."""
    return int.from_bytes(decrypt_bytes(block.to_bytes(8, "big"), key), "big")
