#!/usr/bin/env python3
"""Generates tests/vectors/legacy_hashes.json: legacy password hashes made by each format's reference
implementation, for src/domain/legacy_hash/tests.rs.

Reference implementations used: passlib 1.7.4 (bcrypt through pyca/bcrypt, sha256/512_crypt, md5_crypt,
apr1, des_crypt, pbkdf2, scrypt, phpass, ldap_*), glibc's crypt(3) through Python's crypt module, Django (its
own hashers), OpenSSL's `openssl passwd` (-1, -apr1, -5, -6), pyca/bcrypt, pyca/cryptography (AES-CTR) and
Python's hashlib/hmac for the wrappers no library ships (WordPress 6.8 as in wp-includes/pluggable.php,
Drupal 7 as in includes/password.inc, ASP.NET Identity's byte layout, Keycloak's PBKDF2 credential, Firebase's
scrypt as in github.com/firebase/scrypt, Ory Kratos's hash/hash_comparator.go forms). Firebase's own published
sample (README of github.com/firebase/scrypt) is included verbatim.
Run: pip install passlib==1.7.4 bcrypt==4.0.1 django argon2-cffi cryptography; python3 this-file.
"""
import warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import crypt  # glibc crypt(3); deprecated in 3.11, present until 3.13
import base64, hashlib, hmac, json, os, subprocess, struct

import bcrypt as pyca_bcrypt
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from passlib import hash as ph
from django.conf import settings

settings.configure(PASSWORD_HASHERS=[
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
])
from django.contrib.auth import hashers as dj  # noqa: E402

LONG = "long-" + "x" * 75 + "-tail"            # 85 bytes: beyond bcrypt's 72
PASSWORDS = ["correct horse", "pässwörd✓ 密码", "", LONG]
out = []


def add(fmt, password, hashed, params=None, also_valid=(), check=None):
    """Records a valid vector and three near misses (appended char, last char changed, case flipped).
    `check`, where given, is the reference implementation's own verify: it decides each variant."""
    out.append({"format": fmt, "password": password, "hash": hashed, "params": params or {},
                "valid": True})
    for other in also_valid:
        out.append({"format": fmt, "password": other, "hash": hashed, "params": params or {}, "valid": True})
    wrong = [password + "x", password[:-1] + chr(ord(password[-1]) ^ 1) if password else "a",
             password.swapcase() if password.swapcase() != password else password + "A"]
    for w in wrong:
        if w != password and w not in also_valid:
            valid = bool(check(w)) if check else False
            out.append({"format": fmt, "password": w, "hash": hashed, "params": params or {}, "valid": valid})


def b64(b):
    return base64.b64encode(b).decode()


def openssl(flag, password, salt):
    return subprocess.check_output(["openssl", "passwd", flag, "-salt", salt, password], text=True).strip()


for pw in PASSWORDS:
    b = pw.encode()
    # bcrypt: real implementations use the first 72 bytes, so a password that differs later is accepted too.
    for ident in ["2a", "2b", "2y"]:
        h = ph.bcrypt.using(rounds=4, ident=ident).hash(pw)
        add("bcrypt", pw, h, also_valid=[LONG[:72] + "different"] if pw == LONG else (),
            check=lambda p, h=h: pyca_bcrypt.checkpw(p.encode(), h.encode()))
    add("argon2", pw, ph.argon2.using(type="ID", memory_cost=1024, time_cost=1, parallelism=2).hash(pw))
    add("argon2", pw, ph.argon2.using(type="I", memory_cost=1024, time_cost=2, parallelism=1).hash(pw))
    add("scrypt", pw, ph.scrypt.using(rounds=10, block_size=8, parallelism=1).hash(pw))
    add("sha256_crypt", pw, ph.sha256_crypt.using(rounds=5000).hash(pw))
    add("sha256_crypt", pw, ph.sha256_crypt.using(rounds=12000).hash(pw))
    add("sha512_crypt", pw, ph.sha512_crypt.using(rounds=5000).hash(pw))
    add("sha512_crypt", pw, ph.sha512_crypt.using(rounds=20000).hash(pw))
    add("md5_crypt", pw, ph.md5_crypt.hash(pw))
    add("apr1", pw, ph.apr_md5_crypt.hash(pw))
    if pw:  # openssl passwd refuses nothing, but an empty argument is awkward on a command line
        add("md5_crypt", pw, openssl("-1", pw, "saltsalt"))
        add("apr1", pw, openssl("-apr1", pw, "htpasswd"))
        add("sha256_crypt", pw, openssl("-5", pw, "openssl5salt"))
        add("sha512_crypt", pw, openssl("-6", pw, "openssl6salt"))
    add("pbkdf2", pw, ph.pbkdf2_sha1.using(rounds=1000).hash(pw))
    add("pbkdf2", pw, ph.pbkdf2_sha256.using(rounds=1000).hash(pw))
    add("pbkdf2", pw, ph.pbkdf2_sha512.using(rounds=1000).hash(pw))
    salt = os.urandom(16)
    for digest, name in [("sha256", "sha256"), ("sha512", "sha512")]:
        dk = hashlib.pbkdf2_hmac(digest, b, salt, 1000)
        phc = "$pbkdf2-%s$i=1000,l=%d$%s$%s" % (name, len(dk), base64.b64encode(salt).decode().rstrip("="),
                                                   base64.b64encode(dk).decode().rstrip("="))
        add("pbkdf2", pw, phc)
    add("django_pbkdf2_sha256", pw, dj.PBKDF2PasswordHasher().encode(pw, dj.PBKDF2PasswordHasher().salt(), 1000))
    add("django_pbkdf2_sha1", pw, dj.PBKDF2SHA1PasswordHasher().encode(pw, dj.PBKDF2SHA1PasswordHasher().salt(), 1000))
    bsha = dj.BCryptSHA256PasswordHasher()
    bsha.rounds = 4
    add("django_bcrypt_sha256", pw, bsha.encode(pw, bsha.salt()))
    a2 = dj.Argon2PasswordHasher()
    a2.time_cost, a2.memory_cost, a2.parallelism = 1, 1024, 1
    add("django_argon2", pw, a2.encode(pw, a2.salt()))
    add("phpass", pw, ph.phpass.using(rounds=8, ident="P").hash(pw))
    add("phpass", pw, ph.phpass.using(rounds=10, ident="H").hash(pw))
    # WordPress 6.8 wp_hash_password(): bcrypt(base64(hmac-sha384('wp-sha384', password))), '$wp' prefix.
    pre = base64.b64encode(hmac.new(b"wp-sha384", b, hashlib.sha384).digest())
    add("wordpress", pw, "$wp" + pyca_bcrypt.hashpw(pre, pyca_bcrypt.gensalt(5, b"2b")).decode().replace("$2b$", "$2y$", 1))
    # Drupal 7 _password_crypt('sha512', ...): '$S$' + itoa64[15] + 8-char salt + encode64(hash), cut to 55.
    itoa = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    dsalt = "".join(itoa[c % 64] for c in os.urandom(8))
    h = hashlib.sha512(dsalt.encode() + b).digest()
    for _ in range(1 << 15):
        h = hashlib.sha512(h + b).digest()
    from passlib.utils.binary import h64
    add("drupal7", pw, ("$S$D" + dsalt + h64.encode_bytes(h).decode())[:55])
    for scheme in ["ldap_sha1", "ldap_salted_sha1", "ldap_md5", "ldap_salted_md5", "ldap_salted_sha256",
                   "ldap_salted_sha512"]:
        add("ldap", pw, getattr(ph, scheme).hash(pw))
    add("ldap", pw, "{SHA256}" + base64.b64encode(hashlib.sha256(b).digest()).decode())
    add("ldap", pw, "{SHA512}" + base64.b64encode(hashlib.sha512(b).digest()).decode())
    add("ldap", pw, "{CRYPT}" + ph.sha512_crypt.using(rounds=5000).hash(pw))
    # ASP.NET Identity V2 (0x00, PBKDF2-HMAC-SHA1, 1000 iterations) and V3 (0x01, PRF, iterations, salt length).
    s16 = os.urandom(16)
    add("aspnet_identity", pw, base64.b64encode(b"\x00" + s16 + hashlib.pbkdf2_hmac("sha1", b, s16, 1000, 32)).decode())
    for prf, digest in [(1, "sha256"), (2, "sha512")]:
        blob = b"\x01" + struct.pack(">III", prf, 1000, 16) + s16 + hashlib.pbkdf2_hmac(digest, b, s16, 1000, 32)
        add("aspnet_identity", pw, base64.b64encode(blob).decode())
    # Keycloak realm export credential (Pbkdf2PasswordHashProvider: 512-bit key for sha256 by default).
    dk = hashlib.pbkdf2_hmac("sha256", b, s16, 1000, 64)
    cred = {"type": "password",
            "secretData": json.dumps({"value": base64.b64encode(dk).decode(), "salt": base64.b64encode(s16).decode(),
                                      "additionalParameters": {}}),
            "credentialData": json.dumps({"hashIterations": 1000, "algorithm": "pbkdf2-sha256",
                                          "additionalParameters": {}})}
    add("keycloak", pw, json.dumps(cred))
    for name in ["md5", "sha1", "sha256", "sha512"]:
        add(name, pw, hashlib.new(name, b).hexdigest())
        add(name, pw, hashlib.new(name, b).hexdigest().upper())
        add(name, pw, base64.b64encode(hashlib.new(name, b).digest()).decode())
        add(name, pw, hashlib.new(name, b"pepper!" + b).hexdigest(), {"salt": "pepper!", "salt_position": "prefix"})
        add(name, pw, hashlib.new(name, b + b"pepper!").hexdigest(), {"salt": "pepper!", "salt_position": "suffix"})
        add("hmac", pw, hmac.new(b"site-key", b, name).hexdigest(), {"digest": name, "key": "site-key"})
        raw_salt = bytes(range(250, 256)) + b"\x00\x01"
        add(name, pw, b64(hashlib.new(name, raw_salt + b).digest()),
            {"salt": b64(raw_salt), "salt_encoding": "base64", "salt_position": "prefix"})
        add(name, pw, hashlib.new(name, b + raw_salt).hexdigest(),
            {"salt": raw_salt.hex(), "salt_encoding": "hex", "salt_position": "suffix"})
        add("hmac", pw, b64(hmac.new(raw_salt, b, name).digest()),
            {"digest": name, "key": b64(raw_salt), "key_encoding": "base64"})

def firebase(password, salt, separator, signer_key, rounds, mem_cost):
    key = hashlib.scrypt(password, salt=salt + separator, n=1 << mem_cost, r=rounds, p=1, dklen=32, maxmem=1 << 26)
    enc = Cipher(algorithms.AES(key), modes.CTR(b"\0" * 16)).encryptor()
    return enc.update(signer_key) + enc.finalize()


# Firebase's published sample, verbatim (README of github.com/firebase/scrypt).
FB = {"signer_key": "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
      "salt_separator": "Bw==", "rounds": 8, "mem_cost": 14}
sample = "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ=="
assert b64(firebase(b"user1password", base64.b64decode("42xEC+ixf3L2lw=="), b"\x07",
                    base64.b64decode(FB["signer_key"]), 8, 14)) == sample
add("firebase_scrypt", "user1password", sample, dict(FB, salt="42xEC+ixf3L2lw=="))

for pw in PASSWORDS:
    b = pw.encode()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if pw and "\0" not in pw:
            add("des_crypt", pw, crypt.crypt(pw, "ab"), check=lambda p: crypt.crypt(p, "ab") == crypt.crypt(pw, "ab"))
    h = ph.des_crypt.hash(pw)
    add("des_crypt", pw, h, check=lambda p, h=h: ph.des_crypt.verify(p, h))
    salt = os.urandom(12)
    signer = base64.b64decode(FB["signer_key"])
    fb = firebase(b, salt, b"\x07", signer, 8, 10)
    add("firebase_scrypt", pw, b64(fb), dict(FB, mem_cost=10, salt=b64(salt)))
    add("firebase_scrypt", pw, "$firescrypt$ln=10,r=8,p=1$%s$%s$%s$%s" % (b64(salt), b64(fb), "Bw==", FB["signer_key"]))
    # Ory Kratos forms (hash/hash_comparator.go).
    add("md5", pw, "$md5$" + b64(hashlib.md5(b).digest()))
    for name in ["md5", "sha1", "sha256", "sha512"]:
        pf, s = "{SALT}{PASSWORD}", b"kratos-salt"
        add(name, pw, "$%s$pf=%s$%s$%s" % (name, b64(pf.encode()), b64(s), b64(hashlib.new(name, s + b).digest())))
        pf = "{PASSWORD}-{SALT}"
        add(name, pw, "$%s$pf=%s$%s$%s" % (name, b64(pf.encode()), b64(s), b64(hashlib.new(name, b + b"-" + s).digest())))
    for name in ["md5", "sha1", "sha256", "sha512"]:
        mac = hmac.new(b"ory-key", b, name).hexdigest().encode()
        add("hmac", pw, "$hmac-%s$%s$%s" % (name, b64(mac), b64(b"ory-key")))
    add("md5_crypt", pw, "$md5-crypt" + ph.md5_crypt.hash(pw)[2:])
    add("sha256_crypt", pw, "$sha256-crypt" + ph.sha256_crypt.using(rounds=5000).hash(pw)[2:])
    add("sha512_crypt", pw, "$sha512-crypt" + ph.sha512_crypt.using(rounds=5000).hash(pw)[2:])
    ks = os.urandom(16)
    add("scrypt", pw, "$scrypt$ln=1024,r=8,p=1$%s$%s" % (b64(ks), b64(hashlib.scrypt(b, salt=ks, n=1024, r=8, p=1, dklen=32))))

print(json.dumps(out, ensure_ascii=False, indent=0))
