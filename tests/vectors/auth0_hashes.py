#!/usr/bin/env python3
"""Generates tests/vectors/auth0_hashes.json: the hash kinds an Auth0 bulk-import export can carry beyond
legacy_hashes.py's: MD4 digests (hex, base64, URL-safe base64, salted), PHC PBKDF2 over HMAC-MD4 and HMAC-MD5
(Auth0's example file holds `$pbkdf2-md4$`), HMAC-RIPEMD160 and HMAC-MD4, LDAP {SHA384}/{SSHA384}, and a SHA-256
digest in URL-safe base64. src/domain/legacy_hash/tests.rs reads it with the other vector files.

Reference implementations: passlib 1.7.4's MD4 and its pbkdf2_hmac (pure-Python MD4 where OpenSSL 3 has none),
Python's hashlib/hmac (RIPEMD-160 through OpenSSL), and base64. Each vector's validity, and that of three near
misses, is decided by recomputing with the same reference.
Run: pip install passlib==1.7.4; python3 tests/vectors/auth0_hashes.py > tests/vectors/auth0_hashes.json
"""
import base64
import hashlib
import hmac
import json
import os

from passlib.crypto.digest import lookup_hash, pbkdf2_hmac

md4 = lookup_hash("md4").const
PASSWORDS = ["correct horse", "pässwörd✓ 密码"]
out = []


def near_misses(password):
    return [password + "x", password[:-1] + chr(ord(password[-1]) ^ 1), password.swapcase()]


def add(fmt, password, hashed, params, recompute):
    """The vector and three near misses, each decided by `recompute(candidate) == expected-bytes`."""
    for candidate in [password] + near_misses(password):
        out.append({"format": fmt, "password": candidate, "hash": hashed, "params": params,
                    "valid": recompute(candidate)})


def b64(b):
    return base64.b64encode(b).decode()


def b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def hmac_md4(key, msg):
    return hmac.new(key, msg, lambda: md4()).digest()


for pw in PASSWORDS:
    b = pw.encode()
    digest = md4(b).digest()
    add("md4", pw, digest.hex(), {}, lambda c, d=digest: md4(c.encode()).digest() == d)
    add("md4", pw, b64(digest), {}, lambda c, d=digest: md4(c.encode()).digest() == d)
    add("md4", pw, b64url(digest), {}, lambda c, d=digest: md4(c.encode()).digest() == d)
    salt = os.urandom(8)
    salted = md4(salt + b).digest()
    add("md4", pw, b64(salted), {"salt": b64(salt), "salt_encoding": "base64", "salt_position": "prefix"},
        lambda c, d=salted, s=salt: md4(s + c.encode()).digest() == d)
    for digest_name in ["md4", "md5"]:
        psalt = os.urandom(12)
        derived = pbkdf2_hmac(digest_name, b, psalt, 1000, 64)
        phc = f"$pbkdf2-{digest_name}$i=1000,l=64${b64(psalt).rstrip('=')}${b64(derived).rstrip('=')}"
        add("pbkdf2", pw, phc, {},
            lambda c, d=derived, s=psalt, n=digest_name: pbkdf2_hmac(n, c.encode(), s, 1000, 64) == d)
    key = os.urandom(16)
    mac = hmac.new(key, b, "ripemd160").digest()
    add("hmac", pw, mac.hex(), {"digest": "ripemd160", "key": b64(key), "key_encoding": "base64"},
        lambda c, d=mac, k=key: hmac.new(k, c.encode(), "ripemd160").digest() == d)
    mac4 = hmac_md4(key, b)
    add("hmac", pw, b64(mac4), {"digest": "md4", "key": key.hex(), "key_encoding": "hex"},
        lambda c, d=mac4, k=key: hmac_md4(k, c.encode()) == d)
    sha384 = hashlib.sha384(b).digest()
    add("ldap", pw, "{SHA384}" + b64(sha384), {}, lambda c, d=sha384: hashlib.sha384(c.encode()).digest() == d)
    lsalt = os.urandom(8)
    ssha384 = hashlib.sha384(b + lsalt).digest()
    add("ldap", pw, "{SSHA384}" + b64(ssha384 + lsalt), {},
        lambda c, d=ssha384, s=lsalt: hashlib.sha384(c.encode() + s).digest() == d)
    sha256 = hashlib.sha256(b).digest()
    add("sha256", pw, b64url(sha256), {}, lambda c, d=sha256: hashlib.sha256(c.encode()).digest() == d)

print(json.dumps(out, indent=0, ensure_ascii=False))
