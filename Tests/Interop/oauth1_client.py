#!/usr/bin/env python3
"""A third-party consumer of the OAuth 1.0a application-link provider (RSA-SHA1), built on
requests-oauthlib and oauthlib.

requests_oauthlib.OAuth1Session plays the linked application: it fetches a request token
(POST /plugins/servlet/oauth/request-token with oauth_callback), builds the authorize URL and
exchanges the verifier for an access token (POST /plugins/servlet/oauth/access-token). A separate
requests.Session plays the person's browser, never following redirects by itself: the 303 to
/login, the login form (its csrf and return_to hidden inputs, with the lg_csrf cookie), the 303
back to /plugins/servlet/oauth/authorize, the approval form#oauth1-approve (its hidden inputs,
decision=approve) and then either the 303 to the callback (oauth_token, oauth_verifier) or, for
--callback oob, the page's <code id="verifier">.

Steps (--steps, comma-separated; default all but deny; they run in this order):
  dance  the three legs above; reports which fields the access-token reply had and the two expiries
  api    GET --api-path signed with the access token (3-legged)
  2lo    GET --api-path signed by the consumer alone, with an empty oauth_token="" (2-legged)
  2loi   as 2lo plus the query parameter xoauth_requestor_id=--requestor (2LO with impersonation)
  hmac   the API call signed HMAC-SHA1 with a made-up secret (expect 400 signature_method_rejected)
  replay one signed request (fixed nonce and timestamp) sent twice (expect 200 then 401 nonce_used)
  stale  a signed request whose timestamp is 10 minutes old (expect 400 timestamp_refused)
  renew  POST access-token signed with the access token plus oauth_session_handle (a new access
         token), then the new token and the OLD one on the API (expect 200, then 401)
  deny   (only when asked for) a second dance with decision=deny: the verifier must be "denied"
         and the access-token exchange 503 oauth_problem=user_refused
  sign   (only when asked for) three signed 2-legged Authorization headers for GET --api-path, not
         sent: the caller sends them itself (pipelined on one connection); "status" is null
hmac, replay and stale use the access token when the dance ran, else 2-legged requests.

Every request is signed RSA-SHA1 in the Authorization header (signature_type AUTH_HEADER) with the
--private-key PEM, except hmac's. oauthlib leaves oauth_token out when it is empty and has no
way to add other oauth_* parameters, so a small oauthlib Client subclass (LinkClient) adds
oauth_token="" for 2-legged requests and oauth_session_handle for renewal; both are in the
Authorization header and so in the signature base string (RFC 5849 3.4.1.3.1).

Prints one JSON object to stdout, one key per step that ran, each with at least "status" (the
HTTP status of the step's last request, or null) and, where the server refused, "oauth_problem"
(from WWW-Authenticate); a step that went wrong has "error". Exits 0 whenever the server answered,
2 when it could not be reached. No token, token secret, verifier, password or key is printed.

Usage:
  .venv/bin/python Tests/Interop/oauth1_client.py --base-url http://127.0.0.1:PORT \
      --consumer-key KEY --private-key consumer.pem --username alice --password PASSWORD \
      [--callback oob|http://127.0.0.1:9/callback] [--api-path /rest/api/3/myself] \
      [--requestor bob] [--steps dance,api,2lo,2loi,hmac,replay,stale,renew]
"""

import argparse
import html
import os
import re
import sys
import time
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import requests
from oauthlib.common import generate_nonce
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_RSA, SIGNATURE_TYPE_AUTH_HEADER, Client
from requests_oauthlib import OAuth1, OAuth1Session
from requests_oauthlib.oauth1_session import TokenMissing, TokenRequestDenied

sys.dont_write_bytecode = True  # no __pycache__ in Tests/Interop
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import (TIMEOUT, Browser, StepFailed, hidden_fields, is_callback, location_of,  # noqa: E402
                            page_form, report, sign_in, submit, to_login)

SERVLET = "/plugins/servlet/oauth"
ALL_STEPS = ("dance", "api", "2lo", "2loi", "hmac", "replay", "stale", "renew")
EXTRA_STEPS = ("deny", "sign")


def parse_args(argv):
    parser = argparse.ArgumentParser(description="OAuth 1.0a RSA-SHA1 consumer (requests-oauthlib)")
    parser.add_argument("--base-url", required=True, help="the gateway, e.g. http://127.0.0.1:PORT")
    parser.add_argument("--consumer-key", required=True)
    parser.add_argument("--private-key", required=True, metavar="PEM_PATH", help="the consumer's RSA private key")
    parser.add_argument("--username", required=True, help="the person who approves the link")
    parser.add_argument("--password", required=True)
    parser.add_argument("--callback", default="oob", help="oauth_callback: a URL (never contacted) or oob")
    parser.add_argument("--api-path", default="/rest/api/3/myself", help="API path to GET")
    parser.add_argument("--requestor", default=None, help="user name for 2LO with impersonation (2loi)")
    parser.add_argument("--pause-after-dance", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long after the dance before the other steps (to let the access token expire)")
    parser.add_argument("--steps", default=",".join(ALL_STEPS),
                        help="comma list of %s (default: all but deny)" % ",".join(ALL_STEPS + EXTRA_STEPS))
    args = parser.parse_args(argv)
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = [s for s in steps if s not in ALL_STEPS + EXTRA_STEPS]
    if unknown:
        parser.error("unknown step(s): %s" % ",".join(unknown))
    args.steps = steps
    return args


class LinkClient(Client):
    """oauthlib's Client, plus: oauth_token="" when the token is the empty string (2-legged; oauthlib
    would drop it), and extra oauth_* parameters (e.g. oauth_session_handle) in the header."""

    extra_oauth_params = ()

    def get_oauth_params(self, request):
        params = super().get_oauth_params(request)
        if self.resource_owner_key == "":
            params.append(("oauth_token", ""))
        params.extend(self.extra_oauth_params)
        return params


def rsa_auth(args, token=None, **extra):
    """An OAuth1 auth for requests: RSA-SHA1 in the Authorization header, with LinkClient."""
    auth = OAuth1(args.consumer_key, resource_owner_key=token, signature_method=SIGNATURE_RSA,
                  rsa_key=args.rsa_key, signature_type=SIGNATURE_TYPE_AUTH_HEADER, client_class=LinkClient)
    auth.client.extra_oauth_params = tuple(extra.items())
    return auth


def rsa_client(args, token, **kwargs):
    return LinkClient(args.consumer_key, resource_owner_key=token, signature_method=SIGNATURE_RSA,
                      rsa_key=args.rsa_key, signature_type=SIGNATURE_TYPE_AUTH_HEADER, **kwargs)


def oauth_problem(response):
    """oauth_problem from WWW-Authenticate (or, failing that, from a form-encoded body)."""
    if response is None:
        return None
    match = re.search(r'oauth_problem="([^"]*)"', response.headers.get("WWW-Authenticate", ""))
    if match:
        return match.group(1)
    if "application/x-www-form-urlencoded" in response.headers.get("Content-Type", ""):
        return dict(parse_qsl(response.text)).get("oauth_problem")
    return None


def outcome(response, **more):
    result = {"status": response.status_code, "oauth_problem": oauth_problem(response)}
    result.update(more)
    return result


def remember_secrets(state, reply):
    secrets = state.setdefault("secrets", set())
    for name in ("oauth_token", "oauth_token_secret", "oauth_session_handle"):
        if reply.get(name):
            secrets.add(reply[name])


def body_excerpt(response, state):
    """The body's first 200 characters, with any token the run knows of blanked out (an echo server
    may echo the Authorization header)."""
    text = response.text
    for secret in state.get("secrets", ()):
        if secret:
            text = text.replace(secret, "[redacted]").replace(quote(secret, safe=""), "[redacted]")
    return text[:200]


def int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def play_user(args, base, authorize_url, decision, result):
    """Drives login and approval like a browser; returns (verifier, token_from_callback)."""
    prefix = urlsplit(base).path.rstrip("/")
    browser = Browser()
    response = browser.get(authorize_url, allow_redirects=False, timeout=TIMEOUT)
    result["authorize_status"] = response.status_code
    page_url = authorize_url
    if response.status_code != 200:
        login_url = to_login(response, authorize_url, "GET authorize", prefix, result)
        page_url = sign_in(browser, login_url, args.username, args.password, result, report_cookies=True)
        response = browser.get(page_url, allow_redirects=False, timeout=TIMEOUT)

    result["approval_status"] = response.status_code
    form = page_form(response, "oauth1-approve")
    if form is None:
        raise StepFailed("GET authorize after login: expected 200 with form#oauth1-approve, got %d"
                         % response.status_code)
    fields = hidden_fields(form)
    result["approval_form_ok"] = ("csrf" in fields and "oauth_token" in fields
                                  and form["buttons"].get("approve", {}).get("value") == "approve"
                                  and form["buttons"].get("deny", {}).get("value") == "deny")
    button = form["buttons"].get(decision) or {"name": "decision", "value": decision}
    fields[button["name"] or "decision"] = button["value"]
    response = submit(browser, page_url, form, fields)
    result["decision_status"] = response.status_code

    if args.callback == "oob":
        match = re.search(r'<code\b[^>]*\bid="verifier"[^>]*>(.*?)</code>', response.text, re.S)
        if response.status_code != 200 or not match:
            raise StepFailed("POST authorize (%s, oob): expected 200 with code#verifier, got %d"
                             % (decision, response.status_code))
        result["verifier_from"] = "oob_page"
        return html.unescape(match.group(1)).strip(), None
    callback = location_of(response, page_url, "POST authorize (%s)" % decision)
    if not is_callback(callback, args.callback):
        raise StepFailed("POST authorize redirected elsewhere than the callback: %s" % urlsplit(callback).path)
    result["decision_redirect_is_303"] = response.status_code == 303
    query = dict(parse_qsl(urlsplit(callback).query, keep_blank_values=True))
    result["verifier_from"] = "callback"
    if not query.get("oauth_verifier"):
        raise StepFailed("the callback carries no oauth_verifier")
    return query["oauth_verifier"], query.get("oauth_token")


def step_dance(args, base, state, decision="approve"):
    result = {"status": None}
    last = {}

    def remember(response, *unused, **unused_kw):
        last["response"] = response

    session = OAuth1Session(args.consumer_key, callback_uri=args.callback, signature_method=SIGNATURE_RSA,
                            rsa_key=args.rsa_key, signature_type=SIGNATURE_TYPE_AUTH_HEADER)
    session.hooks["response"].append(remember)
    try:
        request_token = session.fetch_request_token(base + SERVLET + "/request-token", timeout=TIMEOUT,
                                                    allow_redirects=False)
    except TokenRequestDenied as error:
        result.update(status=error.status_code, oauth_problem=oauth_problem(error.response),
                      error="request token refused: %d" % error.status_code)
        return result
    except (TokenMissing, ValueError) as error:
        result.update(status=last["response"].status_code if "response" in last else None,
                      error="request token reply unreadable: %s" % type(error).__name__)
        return result
    remember_secrets(state, request_token)
    result["request_token"] = {"status": last["response"].status_code,
                               "has_token": bool(request_token.get("oauth_token")),
                               "has_token_secret": "oauth_token_secret" in request_token,
                               "callback_confirmed": request_token.get("oauth_callback_confirmed")}
    authorize_url = session.authorization_url(base + SERVLET + "/authorize")
    try:
        verifier, callback_token = play_user(args, base, authorize_url, decision, result)
    except StepFailed as error:
        result["error"] = str(error)
        return result
    if callback_token is not None:
        result["callback_token_matches"] = callback_token == request_token.get("oauth_token")
    result["verifier_denied"] = verifier == "denied"

    try:
        access = session.fetch_access_token(base + SERVLET + "/access-token", verifier=verifier, timeout=TIMEOUT,
                                            allow_redirects=False)
    except TokenRequestDenied as error:
        result.update(status=error.status_code, oauth_problem=oauth_problem(error.response))
        if decision == "approve":
            result["error"] = "access token refused: %d" % error.status_code
        return result
    except (TokenMissing, ValueError) as error:
        result.update(status=last["response"].status_code if "response" in last else None,
                      error="access token reply unreadable: %s" % type(error).__name__)
        return result
    remember_secrets(state, access)
    result["status"] = last["response"].status_code
    result["fields"] = sorted(access)
    result["has_token"] = bool(access.get("oauth_token"))
    result["has_token_secret"] = "oauth_token_secret" in access
    result["token_differs_from_request_token"] = access.get("oauth_token") != request_token.get("oauth_token")
    result["has_oauth_expires_in"] = "oauth_expires_in" in access
    result["has_oauth_session_handle"] = bool(access.get("oauth_session_handle"))
    result["has_oauth_authorization_expires_in"] = "oauth_authorization_expires_in" in access
    result["oauth_expires_in"] = int_or_none(access.get("oauth_expires_in"))
    result["oauth_authorization_expires_in"] = int_or_none(access.get("oauth_authorization_expires_in"))
    if decision == "approve":
        state["token"] = access.get("oauth_token")
        state["session_handle"] = access.get("oauth_session_handle")
    else:
        result["error"] = "the access-token exchange with a denied verifier succeeded"
    return result


def api_url(args, base, **query):
    url = base + args.api_path
    if query:
        url += ("&" if "?" in url else "?") + urlencode(query)
    return url


def api_get(args, base, auth):
    return requests.get(api_url(args, base), auth=auth, allow_redirects=False, timeout=TIMEOUT)


def step_api(args, base, state):
    if not state.get("token"):
        return {"status": None, "error": "no access token: the dance step did not run or failed"}
    response = api_get(args, base, rsa_auth(args, state["token"]))
    return outcome(response, body=body_excerpt(response, state))


def step_2lo(args, base, state):
    response = api_get(args, base, rsa_auth(args, ""))
    return outcome(response, body=body_excerpt(response, state))


def step_2loi(args, base, state):
    if not args.requestor:
        return {"status": None, "error": "--requestor is needed for 2loi"}
    response = requests.get(api_url(args, base, xoauth_requestor_id=args.requestor), auth=rsa_auth(args, ""),
                            allow_redirects=False, timeout=TIMEOUT)
    return outcome(response, body=body_excerpt(response, state))


def signing_token(state):
    """The access token when the dance gave one, else "" (2-legged)."""
    return state.get("token") or ""


def step_hmac(args, base, state):
    token = signing_token(state)
    auth = OAuth1(args.consumer_key, client_secret="made-up-consumer-secret", resource_owner_key=token,
                  resource_owner_secret="made-up-token-secret", signature_method=SIGNATURE_HMAC_SHA1,
                  signature_type=SIGNATURE_TYPE_AUTH_HEADER, client_class=LinkClient)
    response = api_get(args, base, auth)
    return outcome(response, legs=3 if token else 2)


def step_replay(args, base, state):
    token = signing_token(state)
    client = rsa_client(args, token, nonce=generate_nonce(), timestamp=str(int(time.time())))
    url, headers, _ = client.sign(api_url(args, base), "GET")
    first = requests.get(url, headers=headers, allow_redirects=False, timeout=TIMEOUT)
    second = requests.get(url, headers=headers, allow_redirects=False, timeout=TIMEOUT)
    return {"status": second.status_code, "oauth_problem": oauth_problem(second),
            "first_status": first.status_code, "first_oauth_problem": oauth_problem(first),
            "second_status": second.status_code, "legs": 3 if token else 2}


def step_sign(args, base, state):
    """Three 2-legged Authorization headers (each its own nonce), signed and not sent. They hold a
    signature and no token or secret."""
    headers = []
    for _ in range(3):
        _, signed, _ = rsa_client(args, "").sign(api_url(args, base), "GET")
        headers.append(signed["Authorization"])
    return {"status": None, "authorization": headers}


def step_stale(args, base, state):
    token = signing_token(state)
    client = rsa_client(args, token, timestamp=str(int(time.time()) - 600))
    url, headers, _ = client.sign(api_url(args, base), "GET")
    response = requests.get(url, headers=headers, allow_redirects=False, timeout=TIMEOUT)
    return outcome(response, legs=3 if token else 2)


def step_renew(args, base, state):
    old = state.get("token")
    if not old:
        return {"status": None, "error": "no access token: the dance step did not run or failed"}
    if not state.get("session_handle"):
        return {"status": None, "error": "the access-token reply had no oauth_session_handle"}
    response = requests.post(base + SERVLET + "/access-token",
                             auth=rsa_auth(args, old, oauth_session_handle=state["session_handle"]),
                             allow_redirects=False, timeout=TIMEOUT)
    result = outcome(response)
    reply = {}
    if response.status_code == 200:
        reply = dict(parse_qsl(response.text.strip(), keep_blank_values=True))
    new = reply.get("oauth_token")
    remember_secrets(state, reply)
    result["new_token"] = bool(new) and new != old
    result["fields"] = sorted(reply)
    result["oauth_expires_in"] = int_or_none(reply.get("oauth_expires_in"))
    result["session_handle_kept"] = (reply.get("oauth_session_handle") == state["session_handle"]
                                     if "oauth_session_handle" in reply else None)
    if response.status_code != 200 or not new:
        result["error"] = "renewal gave no new access token (%d)" % response.status_code
        return result
    fresh = api_get(args, base, rsa_auth(args, new))
    result["new_token_api"] = outcome(fresh)
    stale = api_get(args, base, rsa_auth(args, old))
    result["old_token_api"] = outcome(stale)
    state["token"] = new
    state["session_handle"] = reply.get("oauth_session_handle") or state["session_handle"]
    return result


def run(args):
    base = args.base_url.rstrip("/")
    state = {}
    result = {}
    steps = {"dance": step_dance, "api": step_api, "2lo": step_2lo, "2loi": step_2loi, "hmac": step_hmac,
             "replay": step_replay, "stale": step_stale, "renew": step_renew,
             "deny": lambda a, b, s: step_dance(a, b, {}, decision="deny"), "sign": step_sign}
    for name in ALL_STEPS + EXTRA_STEPS:
        if name in args.steps:
            result[name] = steps[name](args, base, state)
            if name == "dance" and args.pause_after_dance > 0:
                time.sleep(min(args.pause_after_dance, 60.0))
    return result


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        with open(args.private_key, encoding="ascii") as pem:
            args.rsa_key = pem.read()
    except OSError as error:
        print("oauth1_client: cannot read --private-key: %s" % error.strerror, file=sys.stderr)
        return 1
    return report("oauth1_client", run, args, error_detail=False)  # the URL could carry a token


if __name__ == "__main__":
    sys.exit(main())
