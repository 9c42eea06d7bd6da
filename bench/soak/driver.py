#!/usr/bin/env python3
"""The soak's driver (`make soak`, scripts/soak.sh), run with .venv's python (requests, PyJWT).

  driver.py prepare CONFIG   credentials for wrk: access tokens of the JWT bearer grant and the
                             Basic value of an API token, into the files CONFIG names
  driver.py run CONFIG       the soak itself, for CONFIG's duration; exit 0 pass, 1 fail

CONFIG is a JSON file written by scripts/soak.sh (URLs, the policy folder, the linkgate binary, the
gateway's pid, the wrk command, durations). `run` starts wrk (bench/soak/load.lua: Connect JWT,
Bearer and Basic requests, all expected 200) for the whole duration and, alongside it:

- a client loop, DRIVER_RATE steps a second: in turn a token exchange (JWT bearer grant, an
  assertion signed here with PyJWT) and a request with the new token, and a 3LO refresh (rotation
  checked) and requests with the new access token, or every 20 s a whole 3LO authorization (login,
  consent, code, exchange); then one denial, in turn from a list of requests that must be refused
  with an exact status. Every answer's status is checked; a connection error or timeout is a
  socket error.
- every RELOAD_EVERY s a policy reload, in turn by SIGHUP and by a change of permissions.json
  (a grant on project:TOGGLE added or removed), each checked: /readyz names the next generation
  within 2 s, and after a file change the toggled project answers 200 or 403 as the policy says;
- every REVOKE_EVERY s a revocation of a token made for it, in turn by `linkgate revoke --token`,
  by POST /oauth2/revoke (a 2LOi and a 3LO access token) and by `linkgate api-token revoke`, each
  checked: the token works before, is refused (401) within 2 s after, and introspects inactive,
  while the load's own credentials still answer 200;
- every SAMPLE_SECONDS the gateway's VmRSS, open file descriptors and threads from /proc.

At the end: wrk's figures (every request 200 with the expected X-Linkgate-Auth, no socket error),
the gateway's /metrics (reloads counted, no store error, no 5xx), RSS after warm-up (at most 10%
growth from the first window after warm-up to the last one) and file descriptors (no growth beyond
FD_SLACK), then a summary and results.json. No token or secret is printed.
"""

import base64
import hashlib
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
import requests

TIMEOUT = 10
PROJECT = "/rest/api/3/project/PROJ"
SECRET_PROJECT = "/rest/api/3/project/SECRET"
TOGGLE_PROJECT = "/rest/api/3/project/TOGGLE"
MYSELF = "/rest/api/3/myself"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_MESSAGES = 30


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def qsh(method, path):
    """The Connect request binding for a path without a query (docs/jwt.md)."""
    return hashlib.sha256(f"{method.upper()}&{path.rstrip('/') or '/'}&".encode()).hexdigest()


def tampered(token):
    """One character of the signature changed."""
    i = len(token) - 12
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]


class Forms(HTMLParser):
    """The hidden inputs of each <form id=...>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self._current = {}, None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._current = self.forms.setdefault(attrs.get("id", ""), {})
        elif tag == "input" and self._current is not None and attrs.get("type") == "hidden" and attrs.get("name"):
            self._current[attrs["name"]] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def hidden_fields(page, form_id):
    parser = Forms()
    parser.feed(page)
    parser.close()
    return parser.forms.get(form_id)


class Failed(Exception):
    pass


class Soak:
    def __init__(self, config):
        self.c = config
        self.base = config["base_url"]
        self.admin = config["admin_url"]
        with open(os.path.join(config["policies"], "apps", "soak.json")) as f:
            self.app = json.load(f)
        self.lock = threading.Lock()
        self.counts = {}          # kind -> {status: n}
        self.failures = []        # messages (first MAX_MESSAGES)
        self.failure_count = 0
        self.socket_errors = 0
        self.events = []          # reloads and revocations, with timings
        self.samples = []         # (t, rss_kb, fds, threads)
        self.stop = threading.Event()
        self.local = threading.local()   # one requests.Session per thread
        self.sessions = []
        self.refresh_token = None
        self.three_lo_access = None
        self.last_assertion = None
        self.toggle_granted = False
        self.generation = None
        self.reloads = 0
        self.revocations = 0

    # --- bookkeeping ------------------------------------------------------
    def fail(self, message):
        with self.lock:
            self.failure_count += 1
            if len(self.failures) < MAX_MESSAGES:
                self.failures.append("%.1fs %s" % (self.elapsed(), message))

    def elapsed(self):
        return time.monotonic() - getattr(self, "t0", time.monotonic())

    def count(self, kind, status):
        with self.lock:
            by_status = self.counts.setdefault(kind, {})
            by_status[status] = by_status.get(status, 0) + 1

    def thread_session(self):
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            with self.lock:
                self.sessions.append(self.local.session)
        return self.local.session

    def call(self, kind, expected, method, path, session=None, **kwargs):
        """One request; counts it under kind and checks its status. Returns the response, or None
        after a socket error (counted and reported)."""
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs.setdefault("allow_redirects", False)
        url = path if path.startswith("http") else self.base + path
        try:
            response = (session or self.thread_session()).request(method, url, **kwargs)
        except requests.RequestException as error:
            with self.lock:
                self.socket_errors += 1
            self.count(kind, "socket-error")
            self.fail("%s: %s %s: socket error: %s" % (kind, method, urlsplit(url).path, type(error).__name__))
            return None
        self.count(kind, response.status_code)
        wanted = expected if isinstance(expected, (tuple, list, set)) else (expected,)
        if response.status_code not in wanted:
            self.fail("%s: %s %s answered %d, expected %s: %s" % (
                kind, method, urlsplit(url).path, response.status_code, "/".join(map(str, wanted)),
                re.sub(r"\s+", " ", response.text[:200])))
        return response

    # --- credentials ------------------------------------------------------
    def connect_jwt(self, method, path, ttl=300):
        now = int(time.time())
        claims = {"iss": self.app["key"], "iat": now, "exp": now + ttl, "qsh": qsh(method, path),
                  "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self.app["sharedSecret"], algorithm="HS256")

    def assertion(self, user="soak-user"):
        now = int(time.time())
        claims = {"iss": "urn:atlassian:connect:clientid:" + self.app["oauthClientId"],
                  "sub": "urn:atlassian:connect:useraccountid:" + user, "tnt": self.base,
                  "aud": self.base + "/oauth2/token", "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex}
        return jwt.encode(claims, self.app["sharedSecret"], algorithm="HS256")

    def exchange(self, kind="token-exchange"):
        """A JWT bearer grant; returns the access token (None when it failed)."""
        self.last_assertion = self.assertion()
        response = self.call(kind, 200, "POST", "/oauth2/token",
                             data={"grant_type": JWT_BEARER, "assertion": self.last_assertion})
        if response is None or response.status_code != 200:
            return None
        answer = response.json()
        if answer.get("token_type") != "Bearer" or not answer.get("access_token"):
            self.fail("%s: no Bearer access token in the answer" % kind)
            return None
        return answer["access_token"]

    def bearer(self, token):
        return {"Authorization": "Bearer " + token}

    def linkgate(self, *arguments):
        """A linkgate command on the soak's policy folder (and so its store); its stdout."""
        command = [self.c["linkgate"], *arguments, "--policies", self.c["policies"]]
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise Failed("linkgate %s exited %d: %s" % (arguments[0], done.returncode, done.stderr.strip()[:300]))
        return done.stdout

    def api_token(self, user, label):
        """A new API token: (its id, the Basic header value)."""
        token = self.linkgate("api-token", "create", "--user", user, "--label", label).strip()
        listing = self.linkgate("api-token", "list", "--user", user)
        ids = [line.split()[0] for line in listing.splitlines() if line.rstrip().endswith(" " + label)]
        if len(ids) != 1:
            raise Failed("api-token list shows %d tokens labelled %s" % (len(ids), label))
        return ids[0], base64.b64encode(("%s:%s" % (user, token)).encode()).decode()

    # --- 3LO ----------------------------------------------------------------
    def authorize(self, prompt_consent):
        """The whole authorization code grant as a browser and a client would: /authorize, /login,
        the consent page (when shown), the code, its exchange. Returns (refresh token, access token),
        or None after a failure (reported)."""
        o = self.app["oauth2"]
        verifier = secrets.token_urlsafe(48)
        challenge = b64url(hashlib.sha256(verifier.encode()).digest())
        state = secrets.token_urlsafe(12)
        query = {"response_type": "code", "client_id": o["clientId"], "redirect_uri": o["redirectUris"][0],
                 "scope": "read:jira-work read:me offline_access", "state": state,
                 "code_challenge": challenge, "code_challenge_method": "S256"}
        if prompt_consent:
            query["prompt"] = "consent"
        browser = requests.Session()
        try:
            response = self.call("3lo-authorize", 303, "GET", "/authorize?" + urlencode(query), session=browser)
            if response is None or response.status_code != 303:
                return
            login = response.headers.get("Location", "")
            if not login.startswith("/login"):
                return self.fail("3lo-authorize: /authorize redirected to %s, not /login" % urlsplit(login).path)
            response = self.call("3lo-login", 200, "GET", login, session=browser)
            fields = hidden_fields(response.text, "login") if response is not None else None
            if not fields:
                return self.fail("3lo-login: no form#login") if response is not None else None
            fields.update({"username": "soak-user", "password": self.c["password"]})
            response = self.call("3lo-login", 303, "POST", "/login", session=browser, data=fields)
            if response is None or response.status_code != 303:
                return
            response = self.call("3lo-authorize", (200, 303), "GET", response.headers["Location"], session=browser)
            if response is None:
                return
            if response.status_code == 200:
                fields = hidden_fields(response.text, "consent")
                if not fields:
                    return self.fail("3lo-consent: no form#consent on the consent page")
                fields["decision"] = "approve"
                response = self.call("3lo-consent", 303, "POST", "/authorize", session=browser, data=fields)
                if response is None or response.status_code != 303:
                    return
            elif prompt_consent:
                self.fail("3lo-authorize: prompt=consent gave no consent page")
            callback = response.headers.get("Location", "")
            parameters = dict(parse_qsl(urlsplit(callback).query))
            if not callback.startswith(o["redirectUris"][0]) or parameters.get("state") != state or "code" not in parameters:
                return self.fail("3lo-authorize: the redirect to the client has no code or the wrong state (%s)"
                                 % parameters.get("error"))
        finally:
            browser.close()
        response = self.call("3lo-code-exchange", 200, "POST", "/oauth/token",
                             auth=(o["clientId"], o["clientSecret"]),
                             data={"grant_type": "authorization_code", "code": parameters["code"],
                                   "redirect_uri": o["redirectUris"][0], "code_verifier": verifier})
        if response is None or response.status_code != 200:
            return
        answer = response.json()
        if not answer.get("refresh_token") or not answer.get("access_token"):
            return self.fail("3lo-code-exchange: no refresh or access token (scope %s)" % answer.get("scope"))
        self.call("3lo-use", 200, "GET", PROJECT, headers=self.bearer(answer["access_token"]))
        return answer["refresh_token"], answer["access_token"]

    def refresh(self):
        o = self.app["oauth2"]
        response = self.call("3lo-refresh", 200, "POST", "/oauth2/token", auth=(o["clientId"], o["clientSecret"]),
                             data={"grant_type": "refresh_token", "refresh_token": self.refresh_token})
        if response is None or response.status_code != 200:
            self.refresh_token = None  # a new authorization next step
            return
        answer = response.json()
        if not answer.get("refresh_token") or answer["refresh_token"] == self.refresh_token:
            self.fail("3lo-refresh: the refresh token did not rotate")
        self.refresh_token, self.three_lo_access = answer.get("refresh_token"), answer.get("access_token")
        self.call("3lo-use", 200, "GET", PROJECT, headers=self.bearer(self.three_lo_access))
        self.call("3lo-use", 200, "GET", MYSELF, headers=self.bearer(self.three_lo_access))

    # --- denials ------------------------------------------------------------
    def denials(self):
        """(kind, expected status, function making the request): each must be refused."""
        o = self.app["oauth2"]
        return [
            ("deny-jwt-tampered", 401, lambda: self.call(
                "deny-jwt-tampered", 401, "GET", PROJECT,
                headers={"Authorization": "JWT " + tampered(self.connect_jwt("GET", PROJECT))})),
            ("deny-jwt-qsh-mismatch", 401, lambda: self.call(
                "deny-jwt-qsh-mismatch", 401, "GET", "/rest/api/3/project/OTHER",
                headers={"Authorization": "JWT " + self.connect_jwt("GET", PROJECT)})),
            ("deny-jwt-no-permission", 403, lambda: self.call(
                "deny-jwt-no-permission", 403, "GET", SECRET_PROJECT,
                headers={"Authorization": "JWT " + self.connect_jwt("GET", SECRET_PROJECT)})),
            ("deny-bearer-no-permission", 403, lambda: self.call(
                "deny-bearer-no-permission", 403, "GET", SECRET_PROJECT, headers=self.bearer(self.driver_bearer))),
            ("deny-bearer-tampered", 401, lambda: self.call(
                "deny-bearer-tampered", 401, "GET", PROJECT, headers=self.bearer(tampered(self.driver_bearer)))),
            ("deny-basic-no-permission", 403, lambda: self.call(
                "deny-basic-no-permission", 403, "GET", PROJECT,
                headers={"Authorization": "Basic " + self.outsider_basic})),
            ("deny-3lo-no-permission", 403, lambda: self.three_lo_access and self.call(
                "deny-3lo-no-permission", 403, "GET", SECRET_PROJECT, headers=self.bearer(self.three_lo_access))),
            ("deny-no-credential", 401, lambda: self.call("deny-no-credential", 401, "GET", PROJECT)),
            ("deny-no-route", 404, lambda: self.call(
                "deny-no-route", 404, "GET", "/rest/api/3/nowhere", headers=self.bearer(self.driver_bearer))),
            ("deny-assertion-replay", 400, lambda: self.last_assertion and self.call(
                "deny-assertion-replay", 400, "POST", "/oauth2/token",
                data={"grant_type": JWT_BEARER, "assertion": self.last_assertion})),
            ("deny-refresh-wrong-secret", 401, lambda: self.refresh_token and self.call(
                "deny-refresh-wrong-secret", 401, "POST", "/oauth2/token", auth=(o["clientId"], "not-the-secret"),
                data={"grant_type": "refresh_token", "refresh_token": self.refresh_token})),
        ]

    # --- the client loop ----------------------------------------------------
    def client_loop(self):
        """Steps at a steady rate (driver_rate a second), so that what the run adds to the gateway's
        bounded caches (each new access token is verified once, then cached) does not depend on the
        machine's speed. In turn a token exchange and a 3LO refresh (or a whole authorization, at
        start and every 20 s), then one denial."""
        denials = self.denials()
        interval = 1.0 / self.c["driver_rate"]
        step, authorizations, next_authorization, next_step = 0, 0, 0.0, time.monotonic()
        while not self.stop.is_set():
            try:
                if step % 2 == 0:
                    token = self.exchange()
                    if token:
                        self.driver_bearer = token
                        self.call("token-exchange-use", 200, "GET", PROJECT, headers=self.bearer(token))
                elif self.refresh_token is None or time.monotonic() >= next_authorization:
                    authorizations += 1
                    tokens = self.authorize(prompt_consent=authorizations % 2 == 1)   # the consent page every other time
                    if tokens:
                        self.refresh_token, self.three_lo_access = tokens
                    next_authorization = time.monotonic() + 20
                else:
                    self.refresh()
                denials[step % len(denials)][2]()
                step += 1
            except Failed as error:
                self.fail(str(error))
            except Exception as error:  # a bug here must not end the soak silently
                self.fail("client loop: %s: %s" % (type(error).__name__, error))
            next_step = max(next_step + interval, time.monotonic() - 1.0)  # no burst after a slow step
            self.stop.wait(max(0.0, next_step - time.monotonic()))

    # --- reloads ------------------------------------------------------------
    def ready_generation(self):
        try:
            text = requests.get(self.admin + "/readyz", timeout=TIMEOUT).text
        except requests.RequestException:
            return None
        found = re.search(r"generation (\d+)", text)
        return int(found.group(1)) if found else None

    def write_permissions(self, grant_toggle):
        path = os.path.join(self.c["policies"], "permissions.json")
        with open(path) as f:
            document = json.load(f)
        toggle = {"permission": "BROWSE_PROJECTS", "resource": "project:TOGGLE", "group": "soak-readers"}
        grants = [g for g in document["grants"] if g.get("resource") != "project:TOGGLE"]
        if grant_toggle:
            grants.append(toggle)
        document["grants"] = grants
        # Written beside the folder, then renamed in: the gateway never sees half a file.
        temporary = os.path.join(self.c["work"], "permissions.json.new")
        with open(temporary, "w") as f:
            json.dump(document, f, indent=2)
        os.replace(temporary, path)

    def reload(self):
        self.reloads += 1
        by_file = self.reloads % 2 == 1
        before = self.ready_generation()
        if before is None:
            return self.fail("reload %d: /readyz did not name a generation" % self.reloads)
        started = time.monotonic()
        if by_file:
            self.toggle_granted = not self.toggle_granted
            self.write_permissions(self.toggle_granted)
        else:
            os.kill(self.c["gateway_pid"], signal.SIGHUP)
        generation = before
        while time.monotonic() - started < 2.0:
            generation = self.ready_generation()
            if generation is not None and generation > before:
                break
            time.sleep(0.05)
        seen = time.monotonic() - started
        how = "permissions.json changed" if by_file else "SIGHUP"
        if generation is None or generation != before + 1:
            return self.fail("reload %d (%s): generation %s -> %s within 2 s, expected %d"
                             % (self.reloads, how, before, generation, before + 1))
        effect = ""
        if by_file:
            # The change itself must be in force: the toggled project follows the grant.
            expected = 200 if self.toggle_granted else 403
            self.call("reload-effect", expected, "GET", TOGGLE_PROJECT, headers=self.bearer(self.driver_bearer))
            effect = ", project TOGGLE now %d" % expected
        self.events.append({"t": round(self.elapsed(), 1), "event": "reload", "how": how,
                            "generation": generation, "seconds": round(seen, 3)})
        print("soak: %5.0fs reload %d (%s): generation %d in %.2f s%s"
              % (self.elapsed(), self.reloads, how, generation, seen, effect), flush=True)

    # --- revocations --------------------------------------------------------
    def refused_within(self, kind, headers, seconds=2.0):
        """Polls PROJECT with headers until 401; returns the seconds it took, or None."""
        started = time.monotonic()
        while True:
            response = self.call(kind, (200, 401), "GET", PROJECT, headers=headers)
            if response is not None and response.status_code == 401:
                return time.monotonic() - started
            if time.monotonic() - started > seconds:
                return None
            time.sleep(0.05)

    def introspect_inactive(self, token, client):
        response = self.call("revoke-introspect", 200, "POST", "/oauth2/introspect", auth=client,
                             data={"token": token})
        if response is not None and response.status_code == 200 and response.json().get("active") is not False:
            self.fail("revoke: a revoked token introspects active")

    def load_still_works(self):
        """The load's own credentials after a revocation: one of wrk's Bearer tokens, its Basic
        value, a fresh Connect JWT."""
        self.call("revoke-load-check", 200, "GET", PROJECT, headers=self.bearer(self.load_bearer))
        self.call("revoke-load-check", 200, "GET", PROJECT, headers={"Authorization": "Basic " + self.load_basic})
        self.call("revoke-load-check", 200, "GET", PROJECT,
                  headers={"Authorization": "JWT " + self.connect_jwt("GET", PROJECT)})

    def revoke(self):
        self.revocations += 1
        kinds = ["linkgate revoke --token", "POST /oauth2/revoke (2LOi token)",
                 "linkgate api-token revoke", "POST /oauth2/revoke (3LO token)"]
        how = kinds[(self.revocations - 1) % len(kinds)]
        two_lo_client = (self.app["oauthClientId"], self.app["sharedSecret"])
        three_lo_client = (self.app["oauth2"]["clientId"], self.app["oauth2"]["clientSecret"])
        if how == "linkgate api-token revoke":
            token_id, basic = self.api_token("soak-user", "soak-revoke-%d" % self.revocations)
            headers, token, client = {"Authorization": "Basic " + basic}, None, None
        elif how == "POST /oauth2/revoke (3LO token)":
            # A grant of its own: the client loop's refresh token is never touched from here.
            tokens = self.authorize(prompt_consent=False)
            if not tokens:
                return self.fail("revoke %d: no 3LO access token to revoke" % self.revocations)
            token, client = tokens[1], three_lo_client
            headers = self.bearer(token)
        else:
            token, client = self.exchange("revoke-setup"), two_lo_client
            if token is None:
                return self.fail("revoke %d: no access token to revoke" % self.revocations)
            headers = self.bearer(token)
        self.call("revoke-before", 200, "GET", PROJECT, headers=headers)
        if how == "linkgate revoke --token":
            self.linkgate("revoke", "--token", token)
        elif how == "linkgate api-token revoke":
            self.linkgate("api-token", "revoke", token_id)
        else:
            self.call("revoke-endpoint", 200, "POST", "/oauth2/revoke", auth=client, data={"token": token})
        seconds = self.refused_within("revoke-after", headers)
        if seconds is None:
            self.fail("revoke %d (%s): the token still worked 2 s after the revocation" % (self.revocations, how))
        if token is not None:
            self.introspect_inactive(token, client)
        self.load_still_works()
        self.events.append({"t": round(self.elapsed(), 1), "event": "revocation", "how": how,
                            "refused_after_seconds": None if seconds is None else round(seconds, 3)})
        print("soak: %5.0fs revocation %d (%s): refused after %s" % (
            self.elapsed(), self.revocations, how, "-" if seconds is None else "%.2f s" % seconds), flush=True)

    def event_loop(self):
        reload_every, revoke_every = self.c["reload_every"], self.c["revoke_every"]
        next_reload, next_revoke = reload_every, revoke_every / 2
        while not self.stop.is_set():
            due = min(next_reload, next_revoke)
            if self.stop.wait(max(0.0, due - self.elapsed())):
                break
            try:
                if next_reload <= next_revoke:
                    next_reload += reload_every
                    self.reload()
                else:
                    next_revoke += revoke_every
                    self.revoke()
            except Failed as error:
                self.fail(str(error))
            except Exception as error:
                self.fail("event: %s: %s" % (type(error).__name__, error))

    # --- sampling -----------------------------------------------------------
    def sample(self):
        pid = self.c["gateway_pid"]
        status = {}
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                name, _, value = line.partition(":")
                status[name] = value.split()[0] if value.split() else ""
        fds = len(os.listdir("/proc/%d/fd" % pid))
        return (round(self.elapsed(), 1), int(status["VmRSS"]), fds, int(status["Threads"]))

    def sampler(self):
        while not self.stop.is_set():
            try:
                row = self.sample()
            except (OSError, KeyError, ValueError):
                self.fail("the gateway (pid %d) is gone" % self.c["gateway_pid"])
                self.stop.set()
                return
            self.samples.append(row)
            self.stop.wait(self.c["sample_seconds"])

    # --- prepare --------------------------------------------------------------
    def prepare(self):
        tokens = []
        for _ in range(self.c["bearer_tokens"]):
            token = self.exchange("prepare")
            if token is None:
                raise Failed("prepare: the JWT bearer grant failed: %s" % self.failures)
            tokens.append(token)
        with open(self.c["bearer_file"], "w") as f:
            f.write("\n".join(tokens) + "\n")
        _, basic = self.api_token("soak-user", "soak-load")
        with open(self.c["basic_file"], "w") as f:
            f.write(basic + "\n")
        _, outsider = self.api_token("soak-outsider", "soak-denied")
        with open(self.c["outsider_file"], "w") as f:
            f.write(outsider + "\n")
        # Each kind once, before the load: a broken set-up fails here, not after minutes.
        for kind, headers in (("prepare-bearer", self.bearer(tokens[0])),
                              ("prepare-basic", {"Authorization": "Basic " + basic}),
                              ("prepare-jwt", {"Authorization": "JWT " + self.connect_jwt("GET", PROJECT)})):
            self.call(kind, 200, "GET", PROJECT, headers=headers)
        self.call("prepare-basic-outsider", 403, "GET", PROJECT, headers={"Authorization": "Basic " + outsider})
        if self.failures:
            raise Failed("prepare: " + "; ".join(self.failures))
        print("soak: prepared %d Bearer tokens (JWT bearer grant) and 2 API tokens" % len(tokens), flush=True)

    # --- run ----------------------------------------------------------------
    def run(self):
        with open(self.c["bearer_file"]) as f:
            self.load_bearer = f.readline().strip()
        with open(self.c["basic_file"]) as f:
            self.load_basic = f.readline().strip()
        with open(self.c["outsider_file"]) as f:
            self.outsider_basic = f.readline().strip()
        self.driver_bearer = self.load_bearer
        self.generation = self.ready_generation()
        duration = self.c["duration"]
        self.t0 = time.monotonic()
        wrk_output = open(self.c["wrk_output"], "w")
        wrk = subprocess.Popen(self.c["wrk_command"], stdout=wrk_output, stderr=subprocess.STDOUT)
        print("soak: wrk started (pid %d) for %d s: %s" % (wrk.pid, duration, " ".join(self.c["wrk_command"][:6])),
              flush=True)
        workers = [threading.Thread(target=target, daemon=True)
                   for target in (self.sampler, self.client_loop, self.event_loop)]
        interrupted = False
        try:
            for worker in workers:
                worker.start()
            last_report = 0
            while not self.stop.is_set() and self.elapsed() < duration:
                self.stop.wait(1.0)
                if self.elapsed() - last_report >= 30 and self.samples:
                    last_report = self.elapsed()
                    t, rss, fds, threads = self.samples[-1]
                    with self.lock:
                        requests_made = sum(sum(v.values()) for v in self.counts.values())
                    print("soak: %5.0fs RSS %.1f MiB, %d fds, %d threads; %d driver requests, %d failures"
                          % (t, rss / 1024, fds, threads, requests_made, self.failure_count), flush=True)
                if wrk.poll() is not None and self.elapsed() < duration - 5:
                    self.fail("wrk ended early (exit %d)" % wrk.returncode)
                    break
        except KeyboardInterrupt:
            interrupted = True
            signal.signal(signal.SIGINT, signal.SIG_IGN)   # one interruption is enough: clean up
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        finally:
            self.stop.set()
            if interrupted or self.elapsed() < duration - 1:
                wrk.terminate()   # stopping early: wrk too, at once
            for worker in workers:
                worker.join(timeout=15)
            try:
                wrk.wait(timeout=30)
            except subprocess.TimeoutExpired:
                wrk.terminate()
                try:
                    wrk.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    wrk.kill()
                    wrk.wait()
            wrk_output.close()
            for session in self.sessions:
                session.close()
        if interrupted:
            raise KeyboardInterrupt
        return self.verdict()

    # --- verdict ------------------------------------------------------------
    def metrics(self):
        text = requests.get(self.admin + "/metrics", timeout=TIMEOUT).text
        found = {}
        for line in text.splitlines():
            # Label values may hold braces (route templates such as /project/{projectKey}).
            match = re.match(r"^(linkgate_[a-z_]+)(\{.*\})?\s+([0-9.eE+-]+)$", line)
            if match:
                labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
                found.setdefault(match.group(1), []).append((labels, float(match.group(3))))
        return found

    def verdict(self):
        problems = []
        # wrk
        wrk = {}
        first_failure = None
        with open(self.c["wrk_output"]) as f:
            for line in f:
                if line.startswith("SOAK-WRK "):
                    wrk = {k: int(v) for k, v in (p.split("=") for p in line.split()[1:])}
                elif line.startswith("SOAK-WRK-FIRST-FAILURE "):
                    first_failure = line.split(" ", 1)[1].strip()
        if not wrk:
            problems.append("wrk printed no SOAK-WRK summary (see %s)" % self.c["wrk_output"])
        else:
            socket = wrk["connect"] + wrk["read"] + wrk["write"] + wrk["timeout"]
            if socket:
                problems.append("wrk: %d socket errors (connect %d, read %d, write %d, timeout %d)" % (
                    socket, wrk["connect"], wrk["read"], wrk["write"], wrk["timeout"]))
            if wrk["non200"] or wrk["status_errors"] or wrk["unexpected"]:
                problems.append("wrk: %d answers not 200, %d without the expected X-Linkgate-Auth; first: %s" % (
                    wrk["non200"], wrk["unexpected"], first_failure))
            if wrk["requests"] == 0:
                problems.append("wrk: no request answered")
        # the driver
        if self.failure_count:
            problems.append("driver: %d failures (unexpected statuses, socket errors, checks)" % self.failure_count)
        if self.reloads == 0 or self.revocations == 0:
            problems.append("driver: %d reloads and %d revocations; the run was too short for both"
                            % (self.reloads, self.revocations))
        # /metrics
        metrics = {}
        try:
            metrics = self.metrics()
        except requests.RequestException as error:
            problems.append("GET /metrics failed: %s" % type(error).__name__)
        reloads = {labels.get("result"): value for labels, value in metrics.get("linkgate_policy_reloads_total", [])}
        if reloads.get("failure", 0):
            problems.append("metrics: %d failed policy reloads" % reloads["failure"])
        if reloads.get("success", 0) != self.reloads:
            problems.append("metrics: %d successful reloads counted, %d made" % (reloads.get("success", 0), self.reloads))
        store_errors = sum(v for _, v in metrics.get("linkgate_store_errors_total", []))
        if store_errors:
            problems.append("metrics: %d store errors" % store_errors)
        statuses = {}
        for labels, value in metrics.get("linkgate_requests_total", []):
            statuses[labels.get("status", "?")] = statuses.get(labels.get("status", "?"), 0) + int(value)
        denials = {}
        for labels, value in metrics.get("linkgate_decisions_total", []):
            if labels.get("outcome") == "deny":
                denials[labels.get("reason", "?")] = denials.get(labels.get("reason", "?"), 0) + int(value)
        server_errors = {s: n for s, n in statuses.items() if s.startswith("5")}
        if server_errors:
            problems.append("metrics: server errors %s" % server_errors)
        # memory and file descriptors
        warmup, duration = self.c["warmup"], self.c["duration"]
        window = max(10.0, 0.1 * duration)
        after = [s for s in self.samples if s[0] >= warmup]
        first = [s for s in after if s[0] < warmup + window]
        last = [s for s in after if s[0] >= self.samples[-1][0] - window] if self.samples else []
        memory = {}
        if len(first) < 2 or len(last) < 2:
            problems.append("too few samples after warm-up (%d); make SOAK_SECONDS longer" % len(after))
        else:
            rss_base = statistics.median(s[1] for s in first)
            rss_end = statistics.median(s[1] for s in last)
            fds_base = statistics.median(s[2] for s in first)
            fds_end = statistics.median(s[2] for s in last)
            growth = (rss_end - rss_base) / rss_base
            memory = {"rss_start_kb": self.samples[0][1], "rss_after_warmup_kb": rss_base, "rss_end_kb": rss_end,
                      "rss_peak_kb": max(s[1] for s in self.samples), "rss_growth_after_warmup": round(growth, 4),
                      "fds_start": self.samples[0][2], "fds_after_warmup": fds_base, "fds_end": fds_end,
                      "fds_min_after_warmup": min(s[2] for s in after), "fds_max_after_warmup": max(s[2] for s in after),
                      "threads_end": self.samples[-1][3], "window_seconds": window}
            if growth > self.c["rss_growth_limit"]:
                problems.append("RSS grew %.1f%% after warm-up (%.1f MiB -> %.1f MiB; limit %.0f%%)" % (
                    100 * growth, rss_base / 1024, rss_end / 1024, 100 * self.c["rss_growth_limit"]))
            if fds_end - fds_base > self.c["fd_slack"]:
                problems.append("open file descriptors grew from %d to %d after warm-up (slack %d)" % (
                    fds_base, fds_end, self.c["fd_slack"]))
        result = {"passed": not problems, "problems": problems, "wrk": wrk, "wrk_first_failure": first_failure,
                  "driver": self.counts, "driver_failures": self.failures, "driver_failure_count": self.failure_count,
                  "driver_socket_errors": self.socket_errors, "reloads": self.reloads, "revocations": self.revocations,
                  "events": self.events, "metrics_statuses": statuses, "metrics_denials": denials, "metrics_reloads": reloads,
                  "metrics_store_errors": store_errors, "memory": memory, "samples": self.samples,
                  "duration": duration, "warmup": warmup}
        with open(self.c["results"], "w") as f:
            json.dump(result, f, indent=1)
        self.summary(result)
        return 0 if not problems else 1

    def summary(self, r):
        w, m = r["wrk"], r["memory"]
        print()
        print("soak summary (%d s, warm-up %d s)" % (r["duration"], r["warmup"]))
        if w:
            seconds = w["duration_us"] / 1e6 or 1
            print("  wrk load      %d requests (%.0f/s), 200 with the expected auth: jwt %d, jwt-bearer %d "
                  "(GET and POST), basic %d; not 200: %d; socket errors: connect %d, read %d, write %d, timeout %d; "
                  "p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (
                      w["requests"], w["requests"] / seconds, w["jwt"], w["jwt_bearer"], w["basic"], w["non200"],
                      w["connect"], w["read"], w["write"], w["timeout"], w["p50_us"] / 1000, w["p99_us"] / 1000,
                      w["max_us"] / 1000))
        total = sum(sum(v.values()) for v in r["driver"].values())
        print("  driver        %d requests, %d failures, %d socket errors" % (
            total, r["driver_failure_count"], r["driver_socket_errors"]))
        for kind in sorted(r["driver"]):
            statuses = ", ".join("%s x%d" % (s, n) for s, n in sorted(r["driver"][kind].items(), key=str))
            print("    %-28s %s" % (kind, statuses))
        print("  reloads       %d (metrics: %s); revocations %d" % (r["reloads"], r["metrics_reloads"], r["revocations"]))
        revoked = [e["refused_after_seconds"] for e in r["events"] if e["event"] == "revocation"
                   and e["refused_after_seconds"] is not None]
        if revoked:
            print("  revoked token refused after %.2f s at most" % max(revoked))
        print("  gateway       statuses from /metrics: %s; store errors %d" % (
            ", ".join("%s x%d" % kv for kv in sorted(r["metrics_statuses"].items())), r["metrics_store_errors"]))
        print("  denials       by reason from /metrics: %s" % (
            ", ".join("%s x%d" % kv for kv in sorted(r["metrics_denials"].items())) or "none"))
        if m:
            print("  RSS           start %.1f MiB, after warm-up %.1f MiB, end %.1f MiB (%+.1f%%), peak %.1f MiB" % (
                m["rss_start_kb"] / 1024, m["rss_after_warmup_kb"] / 1024, m["rss_end_kb"] / 1024,
                100 * m["rss_growth_after_warmup"], m["rss_peak_kb"] / 1024))
            print("  open fds      start %d, after warm-up %d, end %d (min %d, max %d after warm-up); threads %d" % (
                m["fds_start"], m["fds_after_warmup"], m["fds_end"], m["fds_min_after_warmup"],
                m["fds_max_after_warmup"], m["threads_end"]))
        for message in r["driver_failures"][:10]:
            print("  failure: " + message)
        print("  verdict       " + ("PASS" if r["passed"] else "FAIL: " + "; ".join(r["problems"])))


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("prepare", "run"):
        raise SystemExit(__doc__)
    with open(sys.argv[2]) as f:
        config = json.load(f)
    soak = Soak(config)
    # SIGTERM (the script's clean-up) ends the run like Ctrl-C: wrk is stopped, nothing is left.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        if sys.argv[1] == "prepare":
            soak.prepare()
            return 0
        return soak.run()
    except Failed as error:
        print("soak: ERROR: %s" % error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("soak: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
