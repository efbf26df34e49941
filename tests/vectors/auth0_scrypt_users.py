#!/usr/bin/env python3
"""Generates tests/vectors/auth0_scrypt_users.json: Auth0 bulk-import `custom_password_hash` objects with
algorithm "scrypt" (hash, salt, keylen, and cost / blockSize / parallelization or their defaults 16384 / 8 / 1),
the password, and whether scrypt accepts it. src/legacy_store/auth0.rs converts each object with import_row and
verifies the password against the result.

Reference implementation: Python's hashlib.scrypt (OpenSSL). Each vector's validity, and that of three near
misses, is decided by recomputing with it.
Run: python3 tests/vectors/auth0_scrypt_users.py > tests/vectors/auth0_scrypt_users.json
"""
import base64
import hashlib
import json
import os

out = []


def encode(data, encoding):
    if encoding == "utf8":
        return data.decode()
    return data.hex() if encoding == "hex" else base64.b64encode(data).decode()


CASES = [
    # (password, salt encoding, hash encoding, keylen, explicit parameters or None for Auth0's defaults)
    ("correct horse", "utf8", "base64", 64, {"cost": 1024, "blockSize": 8, "parallelization": 1}),
    ("pässwörd✓ 密码", "base64", "hex", 32, {"cost": 2048, "blockSize": 4, "parallelization": 2}),
    ("correct horse", "hex", "base64", 16, None),
]
for password, salt_encoding, hash_encoding, keylen, params in CASES:
    salt = os.urandom(16) if salt_encoding != "utf8" else base64.b64encode(os.urandom(12))
    n, r, p = (params["cost"], params["blockSize"], params["parallelization"]) if params else (16384, 8, 1)

    def derive(candidate, salt=salt, n=n, r=r, p=p, keylen=keylen):
        return hashlib.scrypt(candidate.encode(), salt=salt, n=n, r=r, p=p, dklen=keylen, maxmem=2**26)

    derived = derive(password)
    custom = {"algorithm": "scrypt", "hash": {"value": encode(derived, hash_encoding), "encoding": hash_encoding},
              "salt": {"value": encode(salt, salt_encoding), "encoding": salt_encoding}, "keylen": keylen}
    custom.update(params or {})
    near = [password + "x", password[:-1] + chr(ord(password[-1]) ^ 1), password.swapcase()]
    for candidate in [password] + near:
        out.append({"custom_password_hash": custom, "password": candidate, "valid": derive(candidate) == derived})

print(json.dumps(out, indent=0, ensure_ascii=False))
