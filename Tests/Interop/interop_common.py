"""What the .venv interop clients (authlib_client.py, oauth1_client.py, jwt_bearer_client.py) share.

A browser-like requests session (Secure cookies sent to loopback over http), the HTML form parser,
redirect handling, the sign-in step through linkgate's /login page, and the main wrapper that prints
the one JSON object and picks the exit code. The scripts import it from their own folder; it needs
requests (from .venv), so browser_consent.py (system python) does not use it.
"""

import html
import json
import re
import sys
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests

TIMEOUT = 30
REDIRECTS = (301, 302, 303, 307, 308)


class StepFailed(Exception):
    pass


class Forms(HTMLParser):
    """Collects each <form id=...>: its method, action, <input name=... value=...> fields and
    <button id=...> name and value."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = {}
        self._current = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._current = {"method": attrs.get("method", "get").lower(), "action": attrs.get("action", ""),
                             "fields": {}, "buttons": {}}
            self.forms[attrs.get("id", "")] = self._current
        elif tag == "input" and self._current is not None and attrs.get("name"):
            self._current["fields"][attrs["name"]] = {"type": attrs.get("type", "text").lower(),
                                                      "value": attrs.get("value", "")}
        elif tag == "button" and self._current is not None and attrs.get("id"):
            self._current["buttons"][attrs["id"]] = {"name": attrs.get("name", ""), "value": attrs.get("value", "")}

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


def page_form(response, form_id):
    """form#form_id of a 200 page, else None."""
    return form_of(response.text, form_id) if response.status_code == 200 else None


def hidden_fields(form):
    return {name: field["value"] for name, field in form["fields"].items() if field["type"] == "hidden"}


def submit(browser, page_url, form, fields):
    """POSTs fields to the form's action (relative to page_url), not following the redirect."""
    return browser.post(urljoin(page_url, form["action"] or page_url), data=fields,
                        allow_redirects=False, timeout=TIMEOUT)


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


def retry_after(response):
    """ " (Retry-After: N)" for a 429, else "" (for error messages)."""
    if response.status_code == 429:
        return " (Retry-After: %s)" % response.headers.get("Retry-After")
    return ""


def location_of(response, base, step):
    if response.status_code not in REDIRECTS or not response.headers.get("Location"):
        raise StepFailed("%s: expected a redirect, got %d%s" % (step, response.status_code, retry_after(response)))
    return urljoin(base, response.headers["Location"])


def is_callback(url, callback):
    got, want = urlsplit(url), urlsplit(callback)
    return (got.scheme, got.netloc, got.path) == (want.scheme, want.netloc, want.path)


def to_login(response, authorize_url, step, prefix, result, return_to_prefix=None):
    """The /login URL that the authorize page redirected to. Records authorize_redirect_to_login
    (a 303 to prefix/login, with return_to starting with return_to_prefix when given) and
    return_to_matches (return_to names the authorize URL asked for)."""
    login_url = location_of(response, authorize_url, step)
    login = urlsplit(login_url)
    return_to = dict(parse_qsl(login.query)).get("return_to") or ""
    asked = urlsplit(authorize_url)
    result["authorize_redirect_to_login"] = (response.status_code == 303 and login.path == prefix + "/login"
                                             and (return_to_prefix is None or return_to.startswith(return_to_prefix)))
    result["return_to_matches"] = return_to == asked.path + "?" + asked.query
    return login_url


def sign_in(browser, login_url, username, password, result, report_cookies=False):
    """GET the login page, POST form#login (its csrf and return_to hidden inputs, with the lg_csrf cookie)
    with the credentials; records login_status (and, with report_cookies, login_sets_csrf_cookie and
    login_sets_session_cookie); returns the URL the login redirected to."""
    response = browser.get(login_url, allow_redirects=False, timeout=TIMEOUT)
    form = page_form(response, "login")
    if form is None:
        raise StepFailed("GET /login: expected 200 with form#login, got %d" % response.status_code)
    if report_cookies:
        result["login_sets_csrf_cookie"] = "lg_csrf" in response.cookies
    fields = hidden_fields(form)
    if "csrf" not in fields or "return_to" not in fields:
        raise StepFailed("GET /login: form#login lacks the csrf or return_to hidden input")
    fields.update({"username": username, "password": password})
    response = submit(browser, login_url, form, fields)
    result["login_status"] = response.status_code
    if report_cookies:
        result["login_sets_session_cookie"] = "lg_session" in response.cookies
    if response.status_code in (401, 429):
        alert = re.search(r'<p\b[^>]*\bclass="error"[^>]*>(.*?)</p>', response.text, re.S)
        raise StepFailed("POST /login: %d%s%s" % (
            response.status_code, retry_after(response),
            ": " + html.unescape(re.sub(r"<[^>]+>", "", alert.group(1))).strip() if alert else ""))
    return location_of(response, login_url, "POST /login")


def print_json(result):
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


def report(name, run, args, error_detail=True):
    """Runs run(args) and prints its JSON result: exit code 0 whenever the server answered, 2 (with a
    line on stderr, naming the error's message too when error_detail) when it could not be reached."""
    try:
        result = run(args)
    except requests.exceptions.RequestException as error:
        detail = ": %s" % error if error_detail else ""
        print("%s: could not talk to the server: %s%s" % (name, type(error).__name__, detail), file=sys.stderr)
        return 2
    print_json(result)
    return 0
