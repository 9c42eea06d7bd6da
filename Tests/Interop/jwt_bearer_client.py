#!/usr/bin/env python3
"""A third-party client of the RFC 7523 JWT bearer grant, Atlassian "2LOi" flavour.

It uses only PyJWT and requests, and builds the assertion the way Atlassian's client
libraries do: an HS256 JWT signed with the app's shared secret, with
iss = urn:atlassian:connect:clientid:<client id>,
sub = urn:atlassian:connect:useraccountid:<account id>, tnt = <tenant>, aud = <audience>.

Steps: exchange the assertion at the token endpoint, GET the API URL with the access token,
verify the access token against <tenant>/.well-known/jwks.json (ES256), then send the very
same assertion again (a replay). Prints one JSON object to stdout; exits 0 whenever the
server answered, 2 when it could not be reached. The secret is never printed.

Usage:
  .venv/bin/python Tests/Interop/jwt_bearer_client.py --token-url http://127.0.0.1:PORT/oauth2/token \
      --api-url http://127.0.0.1:PORT/rest/api/thing --client-id CLIENT --secret SECRET \
      --account-id ACCOUNT --tenant https://site.example [--audience URL] [--scope "READ WRITE"]
"""

import argparse
import os
import sys
import time
import uuid

import jwt
import requests

sys.dont_write_bytecode = True  # no __pycache__ in Tests/Interop
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import TIMEOUT, report  # noqa: E402

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def parse_args(argv):
    parser = argparse.ArgumentParser(description="RFC 7523 JWT bearer (Atlassian 2LOi) client")
    parser.add_argument("--token-url", required=True, help="token endpoint, e.g. http://127.0.0.1:PORT/oauth2/token")
    parser.add_argument("--api-url", required=True, help="full URL to GET with the access token")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--secret", required=True, help="the app's HS256 shared secret")
    parser.add_argument("--account-id", required=True)
    parser.add_argument("--tenant", required=True, help="the site's base URL")
    parser.add_argument("--audience", default=None, help="assertion audience (default: the tenant)")
    parser.add_argument("--scope", default=None, help='space-separated scopes, e.g. "READ WRITE"')
    return parser.parse_args(argv)


def build_assertion(args):
    now = int(time.time())
    claims = {
        "iss": "urn:atlassian:connect:clientid:" + args.client_id,
        "sub": "urn:atlassian:connect:useraccountid:" + args.account_id,
        "tnt": args.tenant,
        "aud": args.audience if args.audience is not None else args.tenant,
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, args.secret, algorithm="HS256", headers={"typ": "JWT"})


def json_body(response):
    try:
        body = response.json()
    except ValueError:
        return {"raw": response.text}
    return body if isinstance(body, dict) else {"raw": body}


def verify_with_jwks(token, tenant):
    """Verifies the access token with the keys the tenant publishes; returns (ok, error)."""
    url = tenant.rstrip("/") + "/.well-known/jwks.json"
    try:
        client = jwt.PyJWKClient(url, cache_keys=False, timeout=TIMEOUT)
        signing_key = client.get_signing_key_from_jwt(token)
        jwt.decode(token, signing_key.key, algorithms=["ES256"], audience=tenant, issuer=tenant)
    except Exception as error:  # any failure is reported, not raised
        return False, "%s: %s" % (type(error).__name__, error)
    return True, None


def run(args):
    assertion = build_assertion(args)
    form = {"grant_type": GRANT_TYPE, "assertion": assertion}
    if args.scope is not None:
        form["scope"] = args.scope

    token = requests.post(args.token_url, data=form, timeout=TIMEOUT)
    token_response = json_body(token)
    access_token = token_response.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        access_token = None

    result = {
        "token_status": token.status_code,
        "token_response": token_response,
        "token_headers": {
            "cache-control": token.headers.get("Cache-Control"),
            "content-type": token.headers.get("Content-Type"),
        },
        "access_token_header": None,
        "jwks_verified": False,
        "jwks_error": "no access token was returned",
        "api_status": None,
        "api_body": None,
        "replay_status": None,
        "replay_response": None,
    }

    if access_token is not None:
        try:
            result["access_token_header"] = jwt.get_unverified_header(access_token)
        except jwt.exceptions.PyJWTError:
            result["access_token_header"] = None
        result["jwks_verified"], result["jwks_error"] = verify_with_jwks(access_token, args.tenant)

        api = requests.get(args.api_url, headers={"Authorization": "Bearer " + access_token}, timeout=TIMEOUT)
        result["api_status"] = api.status_code
        result["api_body"] = api.text

    replay = requests.post(args.token_url, data=form, timeout=TIMEOUT)
    result["replay_status"] = replay.status_code
    result["replay_response"] = json_body(replay)
    return result


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return report("jwt_bearer_client", run, args)


if __name__ == "__main__":
    sys.exit(main())
