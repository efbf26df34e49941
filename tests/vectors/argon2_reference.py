#!/usr/bin/env python3
"""Prints argon2id reference vectors from argon2-cffi (bindings to the C reference libargon2).

The output is pasted into src/domain/password/argon2id.rs; rerun with `pip install argon2-cffi`.
"""
import argon2.low_level as ll

CASES = [
    (b"password", b"somesalt", 2, 4096, 1, ll.Type.ID, 19, 32),
    ("pässwörd✓".encode(), b"saltsaltsalt", 1, 8192, 2, ll.Type.ID, 19, 32),
    (b"password", b"somesalt", 2, 4096, 1, ll.Type.I, 16, 32),
    (b"", b"0123456789abcdef", 3, 1024, 4, ll.Type.D, 19, 64),
]
for password, salt, t, m, p, kind, version, length in CASES:
    phc = ll.hash_secret(password, salt, time_cost=t, memory_cost=m, parallelism=p,
                         hash_len=length, type=kind, version=version).decode()
    print(password.decode(), phc)
