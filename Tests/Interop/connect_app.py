"""A small Atlassian Connect app, as an app developer would write it, for the
install end-to-end tests (Tests/EndToEndTests/ConnectInstall, docs/connect-install.md).

It serves its descriptor at /atlassian-connect.json and handles the lifecycle
callbacks: each must carry `Authorization: JWT <token>` signed RS256; the app
fetches the public key for the token's `kid` from the gateway's
/connect-install-keys/{kid}, verifies it with PyJWT (aud = its own baseUrl,
iss = the payload's clientKey) and checks the `qsh` with atlassian-jwt. On
`installed` it keeps the shared secret; it then calls the gateway with Connect
JWTs signed with it (atlassian-jwt), when the test asks through /__call.

Usage: connect_app.py --gateway URL [--key KEY] [--scopes READ,WRITE]
       [--auth-type jwt] [--base-url URL] [--installed-status 200] [--uninstalled-status 200]
Prints "connect app listening on http://127.0.0.1:PORT" once it serves.
"""

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import atlassian_jwt
import jwt
import requests
from atlassian_jwt.url_utils import hash_url

parser = argparse.ArgumentParser()
parser.add_argument("--gateway", required=True, help="the gateway's main listener, http://127.0.0.1:PORT")
parser.add_argument("--key", default="com.example.hello")
parser.add_argument("--scopes", default="READ")
parser.add_argument("--auth-type", default="jwt")
parser.add_argument("--base-url", default=None, help="the descriptor's baseUrl (default: this server)")
parser.add_argument("--installed-status", type=int, default=200)
parser.add_argument("--uninstalled-status", type=int, default=200)
arguments = parser.parse_args()

lock = threading.Lock()
state = {"events": [], "tenant": None}


def descriptor(base_url):
    return {
        "key": arguments.key,
        "name": "Hello from Python",
        "description": "The install end-to-end test's Connect app",
        "baseUrl": base_url,
        "vendor": {"name": "Linkgate tests"},
        "authentication": {"type": arguments.auth_type},
        "apiMigrations": {"signed-install": True},
        "lifecycle": {
            "installed": "/installed",
            "uninstalled": "/uninstalled",
            "enabled": "/enabled",
            "disabled": "/disabled",
        },
        "scopes": [scope for scope in arguments.scopes.split(",") if scope],
        "modules": {},
    }


def verify_lifecycle(handler, base_url, body):
    """Verifies a signed lifecycle callback as Atlassian's frameworks do; returns the payload or raises."""
    header = handler.headers.get("Authorization", "")
    if not header.startswith("JWT "):
        raise ValueError("no Authorization: JWT header")
    token = header[len("JWT "):]
    unverified = jwt.get_unverified_header(token)
    if unverified.get("alg") != "RS256" or not unverified.get("kid"):
        raise ValueError(f"unexpected header {unverified}")
    key_answer = requests.get(f"{arguments.gateway}/connect-install-keys/{unverified['kid']}", timeout=10)
    if key_answer.status_code != 200:
        raise ValueError(f"the public key answered {key_answer.status_code}")
    payload = json.loads(body)
    claims = jwt.decode(
        token, key_answer.text, algorithms=["RS256"], audience=base_url,
        options={"require": ["iss", "aud", "iat", "exp", "qsh"]})
    if claims["iss"] != payload["clientKey"]:
        raise ValueError(f"iss {claims['iss']} is not the clientKey {payload['clientKey']}")
    expected_qsh = hash_url("POST", handler.path)
    if claims["qsh"] != expected_qsh:
        raise ValueError(f"qsh {claims['qsh']} is not {expected_qsh}")
    return payload, claims, unverified["kid"]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def answer(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def base_url(self):
        return arguments.base_url or f"http://127.0.0.1:{self.server.server_address[1]}"

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/atlassian-connect.json":
            return self.answer(200, descriptor(self.base_url()))
        if url.path == "/__state":
            with lock:
                return self.answer(200, {"events": state["events"], "installed": state["tenant"] is not None})
        if url.path == "/__call":
            return self.call_gateway(parse_qs(url.query))
        return self.answer(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode()
        event = urlsplit(self.path).path.lstrip("/")
        if event not in ("installed", "uninstalled", "enabled", "disabled"):
            return self.answer(404, {"error": "not found"})
        if event == "installed" and arguments.installed_status != 200:
            with lock:
                state["events"].append({"event": event, "verified": None})
            return self.answer(arguments.installed_status, "the test app refuses this install", "text/plain")
        try:
            payload, claims, kid = verify_lifecycle(self, self.base_url(), body)
        except Exception as error:  # the test reads the reason in the install's message
            with lock:
                state["events"].append({"event": event, "verified": False, "error": str(error)})
            return self.answer(401, {"error": f"signed install check failed: {error}"})
        record = {
            "event": event, "verified": True, "eventType": payload.get("eventType"), "kid": kid,
            "clientKey": payload.get("clientKey"), "baseUrl": payload.get("baseUrl"),
            "secretLength": len(payload.get("sharedSecret", "")), "aud": claims["aud"],
        }
        with lock:
            state["events"].append(record)
            if event == "installed":
                state["tenant"] = payload
        if event == "uninstalled" and arguments.uninstalled_status != 200:
            return self.answer(arguments.uninstalled_status, "the test app fails its uninstall", "text/plain")
        return self.answer(204 if event == "installed" else 200, "")

    def call_gateway(self, query):
        """Calls the gateway as the app: a Connect JWT signed with the shared secret it received."""
        method = query.get("method", ["GET"])[0]
        path = query.get("path", ["/"])[0]
        with lock:
            tenant = state["tenant"]
        if tenant is None:
            return self.answer(409, {"error": "not installed"})
        token = atlassian_jwt.encode_token(
            method, path, tenant["clientKey"], tenant["sharedSecret"], timeout_secs=180,
            payload_kwargs={"iss": arguments.key})
        answer = requests.request(
            method, f"{arguments.gateway}{path}", headers={"Authorization": f"JWT {token}"}, timeout=10)
        return self.answer(200, {"status": answer.status_code, "body": answer.text[:500]})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"connect app listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
