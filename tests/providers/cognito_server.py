"""An Amazon Cognito-compatible user pool for the end-to-end tests: moto's server (the AWS emulator from PyPI) on
127.0.0.1 with one pool, one app client that allows USER_PASSWORD_AUTH, and the given users. Announces
"listening on HOST:PORT CLIENT_ID CLIENT_SECRET" on stdout (the secret "-" when the client has none).

    cognito_server.py with-secret|without-secret USERS_JSON

USERS_JSON: [{"email", "password", "attributes": {"name": ..., "custom:plan": ...}, "enabled": true,
              "confirmed": true}].
"""

import json
import signal
import sys
import threading

import logging

import boto3
from moto.server import ThreadedMotoServer

secret_mode, users_file = sys.argv[1:3]
logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
endpoint = f"http://{host}:{port}"
cognito = boto3.client(
    "cognito-idp", region_name="eu-west-1", endpoint_url=endpoint,
    aws_access_key_id="testing", aws_secret_access_key="testing",
)
pool = cognito.create_user_pool(
    PoolName="legacy",
    Schema=[{"Name": "plan", "AttributeDataType": "String", "Mutable": True}],
)["UserPool"]["Id"]
client = cognito.create_user_pool_client(
    UserPoolId=pool, ClientName="pg_trickle", GenerateSecret=secret_mode == "with-secret",
    ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
)["UserPoolClient"]
for u in json.load(open(users_file)):
    attributes = [{"Name": "email", "Value": u["email"]}]
    attributes += [{"Name": k, "Value": v} for k, v in u.get("attributes", {}).items()]
    cognito.admin_create_user(UserPoolId=pool, Username=u["email"], UserAttributes=attributes,
                              MessageAction="SUPPRESS")
    if u.get("confirmed", True):
        cognito.admin_set_user_password(UserPoolId=pool, Username=u["email"], Password=u["password"], Permanent=True)
    else:
        # A user who must set a new password first (FORCE_CHANGE_PASSWORD): a challenge, not tokens.
        cognito.admin_set_user_password(UserPoolId=pool, Username=u["email"], Password=u["password"], Permanent=False)
    if not u.get("enabled", True):
        cognito.admin_disable_user(UserPoolId=pool, Username=u["email"])
print(f"listening on {host}:{port} {client['ClientId']} {client.get('ClientSecret', '-')}", flush=True)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
stop.wait()
server.stop()
