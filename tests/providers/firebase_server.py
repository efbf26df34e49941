"""Google's own Firebase Authentication emulator (firebase-tools from npm, `emulators:start --only auth`) for the
end-to-end tests, on 127.0.0.1 with free ports and a demo project (no Google account, no network), filled with the
given users through the emulator's REST API. Announces "listening on HOST:PORT" once the users are in; stops the
emulator when it is terminated.

    firebase_server.py FIREBASE_BINARY USERS_JSON

USERS_JSON: [{"email", "password", "displayName", "photoUrl", "emailVerified", "customAttributes": {...},
              "disabled": false}].
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from ctypes import CDLL

PROJECT = "demo-trickle"
firebase, users_file = sys.argv[1:3]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


auth_port, hub_port, logging_port = free_port(), free_port(), free_port()
workdir = tempfile.mkdtemp(prefix="firebase-emulator-")
with open(os.path.join(workdir, "firebase.json"), "w") as f:
    json.dump({"emulators": {
        "auth": {"host": "127.0.0.1", "port": auth_port},
        "hub": {"host": "127.0.0.1", "port": hub_port},
        "logging": {"host": "127.0.0.1", "port": logging_port},
        "ui": {"enabled": False},
        "singleProjectMode": True,
    }}, f)
env = dict(os.environ, HOME=workdir, FIREBASE_CLI_DISABLE_UPDATE_CHECK="true", CI="true")
emulator = subprocess.Popen(
    [firebase, "emulators:start", "--only", "auth", "--project", PROJECT],
    cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    # The emulator dies with this wrapper, however the wrapper ends (PR_SET_PDEATHSIG = 1, SIGKILL = 9).
    preexec_fn=lambda: CDLL(None).prctl(1, 9),
)


def stop(*_):
    try:
        os.killpg(emulator.pid, signal.SIGTERM)
        emulator.wait(timeout=10)
    except Exception:
        os.killpg(emulator.pid, signal.SIGKILL)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
base = f"http://127.0.0.1:{auth_port}/identitytoolkit.googleapis.com/v1"


def call(path, body, admin=False):
    headers = {"Content-Type": "application/json"}
    if admin:
        headers["Authorization"] = "Bearer owner"  # the emulator's administrator credential
    request = urllib.request.Request(f"{base}/{path}", data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


deadline = time.time() + 90
while True:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{auth_port}/", timeout=1)
        break
    except urllib.error.HTTPError:
        break
    except Exception:
        if emulator.poll() is not None or time.time() > deadline:
            print("the Authentication emulator did not start", file=sys.stderr, flush=True)
            sys.exit(1)
        time.sleep(0.2)

for u in json.load(open(users_file)):
    created = call("accounts:signUp?key=demo", {"email": u["email"], "password": u["password"]})
    update = {"localId": created["localId"], "emailVerified": u.get("emailVerified", False),
              "disableUser": u.get("disabled", False)}
    for key in ("displayName", "photoUrl"):
        if key in u:
            update[key] = u[key]
    if "customAttributes" in u:
        update["customAttributes"] = json.dumps(u["customAttributes"])
    call(f"projects/{PROJECT}/accounts:update", update, admin=True)

print(f"listening on 127.0.0.1:{auth_port}", flush=True)
emulator.wait()
