"""A real OAuth 2.0 / OpenID Connect authorization server for the end-to-end tests: django-oauth-toolkit with OIDC
enabled, the resource-owner password grant for one confidential client, on 127.0.0.1 (a free port, announced on
stdout as "listening on HOST:PORT").

    oidc_server.py CLIENT_ID CLIENT_SECRET USERS_JSON

USERS_JSON: [{"email", "password", "first_name", "last_name", "active", "claims": {...}}]. Users log in with their
email as the username (as a Keycloak realm with "login with email" does); "claims" are extra userinfo claims.
"""

import json
import os
import sys
import tempfile
import warnings
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

client_id, client_secret, users_file = sys.argv[1:4]
# django-oauth-toolkit warns that RFC 9700 discourages the password grant: known, and the reason pg_trickle uses it
# only to move users off a provider (docs/providers/).
warnings.simplefilter("ignore")
workdir = tempfile.mkdtemp(prefix="oidc-server-")
signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()

settings.configure(
    DEBUG=False,
    SECRET_KEY="pg_trickle-e2e-only",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "oauth2_provider"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(workdir, "db.sqlite3")}},
    MIDDLEWARE=[],
    USE_TZ=True,
    # The server's own password hashing is not under test; a fast hasher keeps fixtures quick.
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    OAUTH2_PROVIDER={
        "OIDC_ENABLED": True,
        "OIDC_RSA_PRIVATE_KEY": signing_key,
        "SCOPES": {"openid": "OpenID Connect", "profile": "Profile", "email": "Email"},
        "OAUTH2_VALIDATOR_CLASS": "__main__.Validator",
    },
)
django.setup()

from django.contrib.auth.models import User  # noqa: E402  (after setup)
from django.core.management import call_command  # noqa: E402
from django.urls import include, path  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402
from oauth2_provider.oauth2_validators import OAuth2Validator  # noqa: E402

urlpatterns = [path("o/", include("oauth2_provider.urls", namespace="oauth2_provider"))]
EXTRA_CLAIMS = {}


class Validator(OAuth2Validator):
    # Standard claims by the scope that releases them (OIDC Core §5.4); extra claims are always released.
    oidc_claim_scope = dict(OAuth2Validator.oidc_claim_scope, preferred_username="profile")

    def get_additional_claims(self, request):
        user = request.user
        claims = {
            "email": user.email,
            "email_verified": True,
            "name": f"{user.first_name} {user.last_name}".strip(),
            "given_name": user.first_name,
            "family_name": user.last_name,
            "preferred_username": user.email.split("@")[0],
        }
        claims.update(EXTRA_CLAIMS.get(user.username, {}))
        return claims


call_command("migrate", verbosity=0)
for u in json.load(open(users_file)):
    user = User.objects.create_user(
        username=u["email"], email=u["email"], password=u["password"],
        first_name=u.get("first_name", ""), last_name=u.get("last_name", ""),
    )
    user.is_active = u.get("active", True)
    user.save()
    EXTRA_CLAIMS[user.username] = u.get("claims", {})
    # Released with the profile scope, as a provider's custom claims are once configured for it.
    Validator.oidc_claim_scope.update({claim: "profile" for claim in EXTRA_CLAIMS[user.username]})
Application.objects.create(
    name="pg_trickle", client_id=client_id, client_secret=client_secret,
    client_type=Application.CLIENT_CONFIDENTIAL, authorization_grant_type=Application.GRANT_PASSWORD,
    algorithm=Application.RS256_ALGORITHM,
)


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


from django.core.wsgi import get_wsgi_application  # noqa: E402

server = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=ThreadingServer, handler_class=QuietHandler)
print(f"listening on 127.0.0.1:{server.server_port}", flush=True)
server.serve_forever()
