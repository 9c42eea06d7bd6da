#!/usr/bin/env python3
"""A third-party client of the OAuth 2.0 authorization-code grant with PKCE (S256), built on Authlib.

Authlib's requests OAuth2Session plays the app: it builds the /authorize URL, exchanges the code
(client_secret_basic with --client-secret, a public client with token_endpoint_auth_method
"none" without one), calls the API and refreshes the token. A separate requests.Session plays
the person's browser, never following redirects by itself: the 303 to /login, the login form
(its csrf and return_to hidden inputs, with the lg_csrf cookie), the 303 back to /authorize, the
consent form (all its hidden inputs, decision=approve) and the 303 to the redirect URI.

Then: the API path and /oauth/token/accessible-resources with the access token, the refresh
grant (the refresh token must change), and the old refresh token once more with a raw request
(a rotated-out token should answer 400 invalid_grant).

Prints one JSON object to stdout; exits 0 whenever the server answered (a step that went wrong
is named in "error"), 2 when it could not be reached. No token, code or secret is printed.

Usage:
  .venv/bin/python Tests/Interop/authlib_client.py --base-url http://127.0.0.1:PORT \
      --client-id CLIENT [--client-secret SECRET] --redirect-uri http://127.0.0.1:9/callback \
      --scope "read:jira-work offline_access" --username alice --password PASSWORD \
      [--api-path /rest/api/3/myself]
"""

import argparse
import os
import sys
from urllib.parse import parse_qsl, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session

sys.dont_write_bytecode = True  # no __pycache__ in Tests/Interop
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (REDIRECTS, TIMEOUT, Browser, StepFailed, hidden_fields, is_callback,  # noqa: E402
                            location_of, page_form, report, sign_in, submit, to_login)


def parse_args(argv):
    parser = argparse.ArgumentParser(description="OAuth 2.0 authorization code + PKCE client (Authlib)")
    parser.add_argument("--base-url", required=True, help="the gateway, e.g. http://127.0.0.1:PORT")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", default=None, help="absent: a public client")
    parser.add_argument("--redirect-uri", required=True, help="a registered redirect URI (never contacted)")
    parser.add_argument("--scope", required=True, help='space-separated, e.g. "read:jira-work offline_access"')
    parser.add_argument("--username", required=True, help="user name or email")
    parser.add_argument("--password", required=True)
    parser.add_argument("--api-path", default="/rest/api/3/myself", help="API path to GET with the access token")
    return parser.parse_args(argv)


def json_or_none(response):
    try:
        return response.json()
    except ValueError:
        return None


def oauth_error(error):
    if isinstance(error, AuthlibBaseError):
        return error.error or type(error).__name__
    return "%s: %s" % (type(error).__name__, error)


def play_user(args, browser, authorize_url, result):
    """Drives login and consent like a browser; returns the callback URL (with code and state)."""
    prefix = urlsplit(args.base_url).path.rstrip("/")
    response = browser.get(authorize_url, allow_redirects=False, timeout=TIMEOUT)
    login_url = to_login(response, authorize_url, "GET /authorize", prefix, result,
                         return_to_prefix=prefix + "/authorize?")
    if is_callback(login_url, args.redirect_uri):
        raise StepFailed("GET /authorize redirected to the redirect URI before login: %s"
                         % dict(parse_qsl(urlsplit(login_url).query)).get("error"))

    next_url = sign_in(browser, login_url, args.username, args.password, result)

    response = browser.get(next_url, allow_redirects=False, timeout=TIMEOUT)
    result["consent_status"] = response.status_code
    if response.status_code in REDIRECTS:
        callback = location_of(response, next_url, "GET /authorize after login")
        if not is_callback(callback, args.redirect_uri):
            raise StepFailed("GET /authorize after login redirected elsewhere: %s" % urlsplit(callback).path)
        result["consent_seen"] = False  # consent remembered from before
        return callback
    form = page_form(response, "consent")
    if form is None:
        raise StepFailed("GET /authorize after login: expected 200 with form#consent, got %d" % response.status_code)
    result["consent_seen"] = True
    fields = hidden_fields(form)
    fields["decision"] = "approve"
    response = submit(browser, next_url, form, fields)
    result["approve_status"] = response.status_code
    callback = location_of(response, next_url, "POST /authorize (approve)")
    if not is_callback(callback, args.redirect_uri):
        raise StepFailed("POST /authorize redirected elsewhere than the redirect URI: %s" % urlsplit(callback).path)
    return callback


def run(args):
    base = args.base_url.rstrip("/")
    token_url = base + "/oauth2/token"
    result = {
        "authorize_redirect_to_login": False,
        "return_to_matches": False,
        "consent_seen": None,
        "callback_state_ok": False,
        "callback_error": None,
        "token": None,
        "api_status": None,
        "resources_status": None,
        "resources": None,
        "refresh": None,
        "old_refresh_reuse": None,
    }

    auth_method = "client_secret_basic" if args.client_secret is not None else "none"
    session = OAuth2Session(args.client_id, args.client_secret, scope=args.scope, redirect_uri=args.redirect_uri,
                            code_challenge_method="S256", token_endpoint_auth_method=auth_method)
    verifier = generate_token(64)
    authorize_url, state = session.create_authorization_url(base + "/authorize", code_verifier=verifier,
                                                            state=generate_token(24))
    browser = Browser()
    try:
        callback = play_user(args, browser, authorize_url, result)
    except StepFailed as error:
        result["error"] = str(error)
        return result

    query = dict(parse_qsl(urlsplit(callback).query, keep_blank_values=True))
    result["callback_state_ok"] = query.get("state") == state and bool(query.get("code"))
    result["callback_error"] = query.get("error")
    if not query.get("code"):
        result["error"] = "the callback carries no code (error=%s)" % query.get("error")
        return result

    try:
        token = session.fetch_token(token_url, authorization_response=callback, code_verifier=verifier)
    except (AuthlibBaseError, ValueError, KeyError) as error:
        result["error"] = "token exchange failed: %s" % oauth_error(error)
        return result
    old_refresh = token.get("refresh_token")
    result["token"] = {
        "has_access_token": bool(token.get("access_token")),
        "has_refresh_token": bool(old_refresh),
        "token_type": token.get("token_type"),
        "expires_in": token.get("expires_in"),
        "scope": token.get("scope"),
    }

    api = session.get(base + args.api_path, allow_redirects=False, timeout=TIMEOUT)
    result["api_status"] = api.status_code
    resources = session.get(base + "/oauth/token/accessible-resources", allow_redirects=False, timeout=TIMEOUT)
    result["resources_status"] = resources.status_code
    result["resources"] = json_or_none(resources)

    if not old_refresh:
        result["refresh"] = {"status": "skipped: no refresh_token was issued", "rotated": False,
                             "has_access_token": False}
        return result
    try:
        refreshed = session.refresh_token(token_url, refresh_token=old_refresh)
        new_refresh = refreshed.get("refresh_token")
        result["refresh"] = {"status": "ok", "rotated": bool(new_refresh) and new_refresh != old_refresh,
                             "has_access_token": bool(refreshed.get("access_token"))}
    except (AuthlibBaseError, ValueError, KeyError) as error:
        result["refresh"] = {"status": oauth_error(error), "rotated": False, "has_access_token": False}

    form = {"grant_type": "refresh_token", "refresh_token": old_refresh}
    auth = None
    if args.client_secret is not None:
        auth = (args.client_id, args.client_secret)
    else:
        form["client_id"] = args.client_id
    reuse = requests.post(token_url, data=form, auth=auth, allow_redirects=False, timeout=TIMEOUT)
    body = json_or_none(reuse)
    result["old_refresh_reuse"] = {"status": reuse.status_code,
                                   "error": body.get("error") if isinstance(body, dict) else None}
    return result


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    return report("authlib_client", run, args)


if __name__ == "__main__":
    sys.exit(main())
