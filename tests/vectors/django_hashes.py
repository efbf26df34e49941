#!/usr/bin/env python3
"""Generates tests/vectors/django_hashes.json: password hashes made by Django's own hashers, for the Django formats
that tests/vectors/legacy_hashes.py does not cover (src/domain/legacy_hash/tests.rs reads both files).

Django 4.2 is the last release that ships every hasher a legacy Django database can hold (SHA1, unsalted SHA1 and
MD5, crypt were removed in 5.0). Each vector's validity, and that of three near misses, is decided by Django's
check_password. bcrypt runs at 5 rounds (a subclass of Django's hasher changing only `rounds`) to keep the tests
quick, plus one vector at Django's default of 12.
Run: python3 -m venv /tmp/djvenv && /tmp/djvenv/bin/pip install "django>=4.2,<4.3" bcrypt==4.0.1  # 4.0 truncates at 72 bytes, as Django 4.2 expected
     /tmp/djvenv/bin/python tests/vectors/django_hashes.py > tests/vectors/django_hashes.json
"""
import json
import warnings

from django.conf import settings

settings.configure(PASSWORD_HASHERS=[
    "__main__.QuickBCryptPasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.SHA1PasswordHasher",
    "django.contrib.auth.hashers.UnsaltedSHA1PasswordHasher",
    "django.contrib.auth.hashers.UnsaltedMD5PasswordHasher",
    "django.contrib.auth.hashers.CryptPasswordHasher",
])
warnings.simplefilter("ignore")  # Django 4.2 warns that the crypt module is deprecated
from django.contrib.auth import hashers as dj  # noqa: E402


class QuickBCryptPasswordHasher(dj.BCryptPasswordHasher):
    algorithm = "bcrypt_quick"  # only its registry name differs; hashes are written as "bcrypt$..."
    rounds = 5


PASSWORDS = ["correct horse", "pässwörd✓ 密码", "long-" + "x" * 75 + "-tail"]
# Django's algorithm name -> pg_trickle's format, and the encoded prefix Django writes.
FORMATS = {
    "bcrypt_quick": "django_bcrypt",
    "scrypt": "django_scrypt",
    "md5": "django_md5",
    "sha1": "django_sha1",
    "unsalted_sha1": "django_sha1",
    "crypt": "django_crypt",
}
out = []


def add(fmt, password, encoded):
    variants = [password, password + "x", password[:-1] + chr(ord(password[-1]) ^ 1), password.swapcase()]
    for candidate in dict.fromkeys(variants):
        out.append({"format": fmt, "password": candidate, "hash": encoded, "params": {},
                    "valid": dj.check_password(candidate, encoded)})


for algorithm, fmt in FORMATS.items():
    for password in PASSWORDS:
        encoded = dj.make_password(password, hasher=algorithm)
        if algorithm == "bcrypt_quick":
            encoded = encoded.replace("bcrypt_quick$", "bcrypt$", 1)
        add(fmt, password, encoded)
# Unsalted MD5 as Django wrote it (bare hex) and as it still accepts it (md5$$hex).
for password in PASSWORDS:
    bare = dj.make_password(password, hasher="unsalted_md5")
    add("md5", password, bare)
    add("django_md5", password, "md5$$" + bare)
add("django_bcrypt", PASSWORDS[0], dj.make_password(PASSWORDS[0], hasher="bcrypt"))
print(json.dumps(out, ensure_ascii=False, indent=0))
