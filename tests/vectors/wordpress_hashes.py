#!/usr/bin/env python3
"""Generates tests/vectors/wordpress_hashes.json: WordPress users' stored hashes, and which typed passwords WordPress
itself would accept, for the `wordpress` format (src/domain/legacy_hash/wordpress.rs; tests.rs reads this file).

WordPress stores wp_hash_password() of the password its paths received: wp-login.php gets it from $_POST, slashed
by wp_magic_quotes (PHP's addslashes), and wp_authenticate() trims it (PHP's trim); XML-RPC and the REST API pass it
unslashed, trimmed the same way. A typed password is accepted when wp_check_password() matches the stored hash for
one of those two forms. The string functions are PHP's own (php -r); the hashes come from the reference
implementations: passlib 1.7.4's phpass (WordPress's $P$B: PasswordHash(8, true) runs 2^13 rounds), PHP's md5()
(WordPress before 2.5 stored the plain MD5), PHP's password_hash() (bcrypt, as password plugins store it), and
WordPress 6.8's $wp$ (bcrypt of base64(HMAC-SHA384(key 'wp-sha384', password)), with PHP's hash_hmac and
password_hash).
Run: apt-get install php-cli; pip install passlib==1.7.4
     python3 tests/vectors/wordpress_hashes.py > tests/vectors/wordpress_hashes.json
"""
import json
import subprocess

from passlib import hash as ph


def php(expression, *args):
    """Evaluates a PHP expression over $argv[1..] with the PHP on this machine."""
    return subprocess.check_output(["php", "-r", f"echo {expression};", "--", *args], text=True)


def login_forms(typed):
    """What WordPress's logins hand wp_check_password for a typed password: unslashed and slashed, both trimmed."""
    return {php("trim($argv[1])", typed), php("trim(addslashes($argv[1]))", typed)}


def wp_md5(stored_form):
    return php("md5($argv[1])", stored_form)


def wp_phpass(stored_form):
    return ph.phpass.using(rounds=13, ident="P").hash(stored_form)


def plugin_bcrypt(stored_form):
    return php("password_hash($argv[1], PASSWORD_BCRYPT, ['cost' => 5])", stored_form)


def wp_68(stored_form):
    return "$wp" + php(
        "password_hash(base64_encode(hash_hmac('sha384', $argv[1], 'wp-sha384', true)), PASSWORD_BCRYPT, ['cost' => 5])",
        stored_form,
    )


def verifies(stored, candidate):
    """wp_check_password($candidate, $stored) for the hash kinds above."""
    if len(stored) <= 32:
        return stored == php("md5($argv[1])", candidate)
    if stored.startswith("$P$"):
        return ph.phpass.verify(candidate, stored)
    if stored.startswith("$wp"):
        return php("password_verify(base64_encode(hash_hmac('sha384', $argv[1], 'wp-sha384', true)), $argv[2]) ? 'y' : 'n'",
                   candidate, stored[3:]) == "y"
    return php("password_verify($argv[1], $argv[2]) ? 'y' : 'n'", candidate, stored) == "y"


def accepted(stored, typed):
    return any(form and verifies(stored, form) for form in login_forms(typed))


out = []
# (how the password was stored, the stored form, the hash function, typed passwords to decide)
cases = [
    ("wp-login.php (slashed, trimmed)", php("trim(addslashes($argv[1]))", "it's \"quoted\" \\ back"), wp_phpass,
     ["it's \"quoted\" \\ back", "it's \"quoted\" \\ back ", "it's \"quoted\" \\ backx", "its \"quoted\" \\ back"]),
    ("REST API (unslashed, trimmed)", "o'neil & \"sons\"", wp_phpass,
     ["o'neil & \"sons\"", " o'neil & \"sons\"\n", "o\\'neil & \\\"sons\\\"", "o'neil & sons"]),
    ("surrounding spaces typed at signup", "spaced out", wp_phpass, ["  spaced out  ", "spaced out", "spacedout"]),
    ("WordPress before 2.5 (plain MD5)", "old-wp-password", wp_md5, ["old-wp-password", " old-wp-password\t", "old-wp-passwordx"]),
    ("WordPress before 2.5, slashed", php("trim(addslashes($argv[1]))", "don't"), wp_md5, ["don't", "dont"]),
    ("WordPress 6.8 $wp$, slashed", php("trim(addslashes($argv[1]))", "o'hara"), wp_68, ["o'hara", "o'harax"]),
    ("a bcrypt password plugin", "plugin-password", plugin_bcrypt, ["plugin-password", "plugin-password!"]),
    ("blank after trim", "x", wp_phpass, ["   "]),
]
for how, stored_form, hasher, typed_list in cases:
    stored = hasher(stored_form)
    for typed in typed_list:
        out.append({"format": "wordpress", "stored_by": how, "password": typed, "hash": stored, "params": {},
                    "valid": accepted(stored, typed)})
print(json.dumps(out, indent=0, ensure_ascii=False))
