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
import html
import json
import re
import sys
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session

TIMEOUT = 30


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


class Forms(HTMLParser):
    """Collects each <form id=...>: its method, action and <input name=... value=...> fields."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = {}
        self._current = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._current = {"method": attrs.get("method", "get").lower(), "action": attrs.get("action", ""),
                             "fields": {}}
            self.forms[attrs.get("id", "")] = self._current
        elif tag == "input" and self._current is not None and attrs.get("name"):
            self._current["fields"][attrs["name"]] = {"type": attrs.get("type", "text").lower(),
                                                      "value": attrs.get("value", "")}

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def form_of(html_text, form_id):
    parser = Forms()
    parser.feed(html_text)
    parser.close()
    return parser.forms.get(form_id)


class Browser(requests.Session):
    """A session that, like a browser, sends Secure cookies to http://localhost and loopback addresses
    (trustworthy origins); Python's cookie jar would send them over https only."""

    LOOPBACK = ("127.0.0.1", "localhost", "localhost.local", "::1", "[::1]")

    def request(self, *args, **kwargs):
        response = super().request(*args, **kwargs)
        for cookie in self.cookies:
            if cookie.secure and cookie.domain.lstrip(".") in self.LOOPBACK:
                cookie.secure = False
        return response


class StepFailed(Exception):
    pass


def location_of(response, base, step):
    if response.status_code not in (301, 302, 303, 307, 308) or not response.headers.get("Location"):
        extra = ""
        if response.status_code == 429:
            extra = " (Retry-After: %s)" % response.headers.get("Retry-After")
        raise StepFailed("%s: expected a redirect, got %d%s" % (step, response.status_code, extra))
    return urljoin(base, response.headers["Location"])


def is_callback(url, redirect_uri):
    got, want = urlsplit(url), urlsplit(redirect_uri)
    return (got.scheme, got.netloc, got.path) == (want.scheme, want.netloc, want.path)


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
    login_url = location_of(response, authorize_url, "GET /authorize")
    login = urlsplit(login_url)
    return_to = dict(parse_qsl(login.query)).get("return_to") or ""
    asked = urlsplit(authorize_url)
    result["authorize_redirect_to_login"] = (response.status_code == 303 and login.path == prefix + "/login"
                                             and return_to.startswith(prefix + "/authorize?"))
    result["return_to_matches"] = return_to == asked.path + "?" + asked.query
    if is_callback(login_url, args.redirect_uri):
        raise StepFailed("GET /authorize redirected to the redirect URI before login: %s"
                         % dict(parse_qsl(login.query)).get("error"))

    response = browser.get(login_url, allow_redirects=False, timeout=TIMEOUT)
    form = form_of(response.text, "login") if response.status_code == 200 else None
    if form is None:
        raise StepFailed("GET /login: expected 200 with form#login, got %d" % response.status_code)
    fields = {name: field["value"] for name, field in form["fields"].items() if field["type"] == "hidden"}
    if "csrf" not in fields or "return_to" not in fields:
        raise StepFailed("GET /login: form#login lacks the csrf or return_to hidden input")
    fields.update({"username": args.username, "password": args.password})
    response = browser.post(urljoin(login_url, form["action"] or login_url), data=fields,
                            allow_redirects=False, timeout=TIMEOUT)
    result["login_status"] = response.status_code
    if response.status_code in (401, 429):
        alert = re.search(r'<p\b[^>]*\bclass="error"[^>]*>(.*?)</p>', response.text, re.S)
        raise StepFailed("POST /login: %d%s%s" % (
            response.status_code,
            " (Retry-After: %s)" % response.headers.get("Retry-After") if response.status_code == 429 else "",
            ": " + html.unescape(re.sub(r"<[^>]+>", "", alert.group(1))).strip() if alert else ""))
    next_url = location_of(response, login_url, "POST /login")

    response = browser.get(next_url, allow_redirects=False, timeout=TIMEOUT)
    result["consent_status"] = response.status_code
    if response.status_code in (301, 302, 303, 307, 308):
        callback = location_of(response, next_url, "GET /authorize after login")
        if not is_callback(callback, args.redirect_uri):
            raise StepFailed("GET /authorize after login redirected elsewhere: %s" % urlsplit(callback).path)
        result["consent_seen"] = False  # consent remembered from before
        return callback
    form = form_of(response.text, "consent") if response.status_code == 200 else None
    if form is None:
        raise StepFailed("GET /authorize after login: expected 200 with form#consent, got %d" % response.status_code)
    result["consent_seen"] = True
    fields = {name: field["value"] for name, field in form["fields"].items() if field["type"] == "hidden"}
    fields["decision"] = "approve"
    response = browser.post(urljoin(next_url, form["action"] or next_url), data=fields,
                            allow_redirects=False, timeout=TIMEOUT)
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
    try:
        result = run(args)
    except requests.exceptions.RequestException as error:
        print("authlib_client: could not talk to the server: %s: %s" % (type(error).__name__, error), file=sys.stderr)
        return 2
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
