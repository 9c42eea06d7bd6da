#!/usr/bin/env python3
"""Writes COUNT distinct Connect JWTs (HS256), one a line, for `make bench-proxy`.

Usage: connect-tokens.py APP_JSON METHOD PATH COUNT OUTPUT [TTL]

APP_JSON is the app's file in the policy folder (bench/policies/apps/*.json): its
"key" becomes "iss" and its "sharedSecret" the HMAC key, read from the file so
that the secret never appears on a command line. Every token carries the "qsh"
of METHOD PATH (the canonical request of docs/jwt.md, "The Connect request binding", as printed by
`linkgate qsh`), and they differ in "jti" (a random prefix and a counter) and in
"iat" (spread over the last 300 s, "exp" = "iat" + TTL, TTL 3600 by default),
so that neither linkgate nor Apache mod_oauth2 can answer one from a cache of
verified tokens. The same tokens serve Apache mod_oauth2 (as Bearer tokens, with
the shared secret as its symmetric key), which ignores "qsh".
Only the Python standard library is used (hmac, hashlib, base64, json).
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def canonical_request(method, path):
    """METHOD&PATH&QUERY for a path without a query string (what the benchmark sends)."""
    if "?" in path:
        raise SystemExit("connect-tokens.py: PATH must not carry a query string")
    path = path.rstrip("/") or "/"
    return f"{method.upper()}&{path}&"


def main():
    if len(sys.argv) not in (6, 7):
        raise SystemExit(__doc__)
    app_file, method, path, count, output = sys.argv[1:6]
    ttl = int(sys.argv[6]) if len(sys.argv) == 7 else 3600
    count = int(count)
    with open(app_file) as f:
        app = json.load(f)
    key = hmac.new(app["sharedSecret"].encode(), digestmod=hashlib.sha256)
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    qsh = hashlib.sha256(canonical_request(method, path).encode()).hexdigest()
    issuer = app["key"]
    run = os.urandom(6).hex()
    now = int(time.time())
    with open(output, "wb") as out:
        lines = []
        for index in range(count):
            issued_at = now - index % 300
            claims = {"iss": issuer, "iat": issued_at, "exp": issued_at + ttl, "qsh": qsh,
                      "jti": f"{run}-{index}"}
            signing_input = header + b"." + b64url(json.dumps(claims, separators=(",", ":")).encode())
            mac = key.copy()
            mac.update(signing_input)
            lines.append(signing_input + b"." + b64url(mac.digest()) + b"\n")
            if len(lines) == 10000:
                out.writelines(lines)
                lines.clear()
        out.writelines(lines)


if __name__ == "__main__":
    main()
