#!/usr/bin/env python3
"""Writes COUNT authorization codes into a gateway's SQLite store, and their exchange bodies, for `make bench-proxy`.

Usage: oauth2-codes.py STORE_FILE COUNT OUTPUT APP_KEY CLIENT_ID CLIENT_SECRET REDIRECT_URI ACCOUNT_ID SCOPE

A code is normally made when a user approves an app on the consent page; the
benchmark measures what follows, the exchange at POST /oauth2/token, so it puts
the codes where the consent page would: one row each in `authorization_codes`
(the SHA-256 of the code, lower-case hex, as docs/grants.md says the store keeps
secrets; a family of its own; no PKCE; 10 minutes to live). Each OUTPUT line is
the form body that exchanges one code with the client's secret. The gateway may
be running: the rows go in one transaction through SQLite's own locking.
"""
import hashlib
import secrets
import sqlite3
import sys
import time
import urllib.parse


def main():
    if len(sys.argv) != 10:
        raise SystemExit(__doc__)
    store, count, output, app_key, client_id, client_secret, redirect_uri, account_id, scope = sys.argv[1:]
    count = int(count)
    expires_at = int(time.time()) + 600
    form = urllib.parse.urlencode
    rows, lines = [], []
    for _ in range(count):
        code = secrets.token_urlsafe(32)
        family = secrets.token_hex(16)
        rows.append((hashlib.sha256(code.encode()).hexdigest(), family, app_key, client_id, account_id,
                     redirect_uri, scope, None, expires_at))
        lines.append(form({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                           "client_id": client_id, "client_secret": client_secret}) + "\n")
    database = sqlite3.connect(store, timeout=30)
    with database:
        database.executemany(
            "INSERT INTO authorization_codes (code_hash, family_id, app_key, client_id, account_id, redirect_uri,"
            " scope, code_challenge, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    database.close()
    with open(output, "w") as out:
        out.writelines(lines)


if __name__ == "__main__":
    main()
