#!/usr/bin/env python3
"""For `make bench`: makes one hash per legacy format at its common default cost and times the format's
reference implementation verifying it. Prints `format<TAB>rounds<TAB>reference_ms<TAB>password<TAB>hash`.
The bench then times auth.verify_legacy_hash on the same hash, the same number of rounds in one statement
(bench/verify_legacy_hash.sql), and reports the ratio (target <= 1.2)."""
import hashlib, statistics, time, warnings  # noqa: E401

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import crypt  # glibc crypt(3), the reference for SHA-crypt and MD5-crypt

import argon2.low_level as a2
import bcrypt
from passlib import hash as ph

warnings.simplefilter("ignore")
PW = "correct horse battery staple"
B = PW.encode()


def timed(fn, rounds):
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        assert fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def row(fmt, rounds, hashed, verify):
    print(f"{fmt}\t{rounds}\t{timed(verify, rounds):.3f}\t{PW}\t{hashed}")


h = bcrypt.hashpw(B, bcrypt.gensalt(10))
row("bcrypt (cost 10)", 10, h.decode(), lambda: bcrypt.checkpw(B, h))
h = a2.hash_secret(B, b"0123456789abcdef", time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, type=a2.Type.ID)
row("argon2id (m=19456,t=2,p=1)", 20, h.decode(), lambda: a2.verify_secret(h, B, a2.Type.ID))
salt = "djangosalt123456"
dk = hashlib.pbkdf2_hmac("sha256", B, salt.encode(), 600000)
import base64  # noqa: E402
h = f"pbkdf2_sha256$600000${salt}${base64.b64encode(dk).decode()}"
row("django pbkdf2_sha256 (600000)", 5, h, lambda: hashlib.pbkdf2_hmac("sha256", B, salt.encode(), 600000) == dk)
h = crypt.crypt(PW, "$6$saltsaltsalt")
row("sha512_crypt (5000)", 200, h, lambda: crypt.crypt(PW, h) == h)
h = crypt.crypt(PW, "$1$saltsalt")
row("md5_crypt", 500, h, lambda: crypt.crypt(PW, h) == h)
h = ph.scrypt.using(rounds=16, block_size=8, parallelism=1).hash(PW)
_, _, settings, s, d = h.split("$")
raw_salt = base64.b64decode(s.replace(".", "+") + "=" * (-len(s) % 4))
raw_hash = base64.b64decode(d.replace(".", "+") + "=" * (-len(d) % 4))
row("scrypt (ln=16,r=8,p=1)", 10, h,
    lambda: hashlib.scrypt(B, salt=raw_salt, n=1 << 16, r=8, p=1, dklen=len(raw_hash), maxmem=1 << 28) == raw_hash)
h = ph.phpass.using(rounds=13).hash(PW)
row("phpass $P$ (2^13, passlib: pure Python)", 50, h, lambda: ph.phpass.verify(PW, h))
