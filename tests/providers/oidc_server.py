"""A real OAuth 2.0 / OpenID Connect authorization server for the end-to-end tests: django-oauth-toolkit with OIDC
enabled at /realms/acme (the issuer is http://HOST:PORT/realms/acme, as a Keycloak realm's), the resource-owner
password grant for one confidential client and the client-credentials grant for an admin client, on 127.0.0.1 (a
free port, announced on stdout as "listening on HOST:PORT").

    oidc_server.py CLIENT_ID CLIENT_SECRET ADMIN_CLIENT_ID ADMIN_CLIENT_SECRET USERS_JSON

USERS_JSON: [{"email", "password", "first_name", "last_name", "active", "claims": {...}, "user_metadata": {...},
"app_metadata": {...}}]. Users log in with their email as the username (as a Keycloak realm with "login with email"
does); "claims" are extra userinfo claims.

The admin user look-ups of Auth0 (GET /realms/acme/api/v2/users-by-email) and Keycloak
(GET /admin/realms/acme/users?email=&exact=true) cannot run here (neither is on PyPI or npm): they are RECORDINGS —
each answers in the shape its vendor documents (Auth0 Management API v2 user; Keycloak UserRepresentation), from this
server's users, behind django-oauth-toolkit's real check of an admin client's client-credentials token.
GET /__stats counts the token requests by grant type.
"""

import json
import logging
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

client_id, client_secret, admin_id, admin_secret, users_file = sys.argv[1:6]
# django-oauth-toolkit warns that RFC 9700 discourages the password grant: known, and the reason pg_trickle uses it
# only to move users off a provider (docs/providers/).
warnings.simplefilter("ignore")
logging.getLogger("oauth2_provider").setLevel(logging.ERROR)
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

EXTRA_CLAIMS = {}
PROFILES = {}
TOKEN_REQUESTS = {}


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
    PROFILES[user.username] = u
    # Released with the profile scope, as a provider's custom claims are once configured for it.
    Validator.oidc_claim_scope.update({claim: "profile" for claim in EXTRA_CLAIMS[user.username]})
Application.objects.create(
    name="pg_trickle", client_id=client_id, client_secret=client_secret,
    client_type=Application.CLIENT_CONFIDENTIAL, authorization_grant_type=Application.GRANT_PASSWORD,
    algorithm=Application.RS256_ALGORITHM,
)
Application.objects.create(
    name="admin", client_id=admin_id, client_secret=admin_secret, client_type=Application.CLIENT_CONFIDENTIAL,
    authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
)

from django.http import JsonResponse  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from oauth2_provider.models import AccessToken  # noqa: E402
from oauth2_provider.views import TokenView  # noqa: E402


@csrf_exempt
def counted_token(request):
    grant = request.POST.get("grant_type", "")
    TOKEN_REQUESTS[grant] = TOKEN_REQUESTS.get(grant, 0) + 1
    return TokenView.as_view()(request)


def admin_allowed(request):
    """A valid, unexpired access token issued to the admin client by the client-credentials grant."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return False
    token = AccessToken.objects.filter(token=header[len("Bearer "):]).select_related("application").first()
    return bool(token and token.expires > timezone.now() and token.application.client_id == admin_id)


def matching_users(request):
    email = request.GET.get("email", "").lower()
    return [u for u in User.objects.order_by("id") if u.email.lower() == email]


def auth0_users_by_email(request):
    if not admin_allowed(request):
        return JsonResponse({"statusCode": 401, "error": "Unauthorized", "message": "Invalid token"}, status=401)
    answer = []
    for u in matching_users(request):
        p = PROFILES[u.username]
        answer.append({
            "user_id": f"auth0|{u.id}", "email": u.email, "email_verified": True,
            "name": f"{u.first_name} {u.last_name}".strip(), "given_name": u.first_name, "family_name": u.last_name,
            "nickname": u.email.split("@")[0], "picture": "https://s.gravatar.com/avatar/0", "blocked": not u.is_active,
            "user_metadata": p.get("user_metadata", {}), "app_metadata": p.get("app_metadata", {}),
            "identities": [{"provider": "auth0", "connection": "Username-Password-Authentication",
                            "user_id": str(u.id), "isSocial": False}],
        })
    return JsonResponse(answer, safe=False)


def keycloak_users(request):
    if not admin_allowed(request):
        return JsonResponse({"error": "HTTP 401 Unauthorized"}, status=401)
    if request.GET.get("exact") != "true":
        return JsonResponse({"error": "this recording answers exact searches only"}, status=400)
    answer = [{
        "id": f"kc-{u.id}", "username": u.email.split("@")[0], "email": u.email, "emailVerified": True,
        "firstName": u.first_name, "lastName": u.last_name, "enabled": u.is_active,
        "attributes": {k: [v] for k, v in PROFILES[u.username].get("user_metadata", {}).items()},
    } for u in matching_users(request)]
    return JsonResponse(answer, safe=False)


def stats(request):
    return JsonResponse(TOKEN_REQUESTS)


urlpatterns = [
    path("realms/acme/token/", counted_token),
    path("realms/acme/api/v2/users-by-email", auth0_users_by_email),
    path("admin/realms/acme/users", keycloak_users),
    path("__stats", stats),
    path("realms/acme/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


from django.core.wsgi import get_wsgi_application  # noqa: E402

server = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=ThreadingServer, handler_class=QuietHandler)
print(f"listening on 127.0.0.1:{server.server_port}", flush=True)
server.serve_forever()
