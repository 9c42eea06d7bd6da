#!/usr/bin/python3
"""A real browser through the login and consent pages: headless Chromium driven by Selenium.

Runs with Debian's /usr/bin/python3, chromium, chromium-driver and python3-selenium
(scripts/browser-deps.sh installs them), not with .venv.

Steps: start a one-shot callback server on 127.0.0.1:--callback-port (it records the path and
query of the first request and answers 200 "done"); open --authorize-url (its redirect_uri must
point at that server) in a fresh headless Chromium; on the login page (#username) type the user
name and password and click #sign-in; on the consent page (#consent) save a PNG screenshot and
read the title, the <h1> and the scopes (#scopes li.scope: <code> and <span>); click #approve or
#deny; wait for the callback request. Every wait is bounded by --timeout.

Prints one JSON object to stdout: login_seen, consent_seen, consent_title, consent_heading,
scopes [{scope, description}], callback {path, query}, screenshot, frame_options (always null:
the Swift tests check headers), and "error" when a step failed. Exits 0 when the whole flow
ran, 1 when a step failed (the JSON says which), 2 when the server could not be reached.
The password is never printed.

Usage:
  /usr/bin/python3 Tests/Interop/browser_consent.py --authorize-url 'http://127.0.0.1:PORT/authorize?...' \
      --callback-port CBPORT --username alice --password PASSWORD --decision approve|deny \
      --screenshot /tmp/consent.png [--timeout 30] [--mobile]
"""

import argparse
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qsl, urlsplit

DESKTOP = (1280, 900)
PHONE = (390, 844)


def parse_args(argv):
    parser = argparse.ArgumentParser(description="headless Chromium through linkgate's login and consent pages")
    parser.add_argument("--authorize-url", required=True, help="the full /authorize URL (redirect_uri -> the callback)")
    parser.add_argument("--callback-port", required=True, type=int, help="port of the callback server on 127.0.0.1")
    parser.add_argument("--username", required=True, help="user name or email")
    parser.add_argument("--password", required=True)
    parser.add_argument("--decision", required=True, choices=("approve", "deny"))
    parser.add_argument("--screenshot", required=True, help="where to save a PNG of the consent page")
    parser.add_argument("--timeout", type=float, default=30.0, help="bound of every wait, in seconds (default 30)")
    parser.add_argument("--mobile", action="store_true", help="a phone-sized window (%dx%d) instead of %dx%d" % (PHONE + DESKTOP))
    parser.add_argument("--chromium", default=None, help="the browser binary (default: chromium on PATH)")
    parser.add_argument("--chromedriver", default=None, help="the driver binary (default: chromedriver on PATH)")
    return parser.parse_args(argv)


class CallbackServer:
    """Answers every request with 200 "done" and remembers the first one's path and query."""

    def __init__(self, port):
        owner = self
        self.request = None
        self.arrived = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if not owner.arrived.is_set():
                    owner.request = self.path
                    owner.arrived.set()
                body = b"done"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

            def log_message(self, format, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def result(self):
        if self.request is None:
            return None
        url = urlsplit(self.request)
        return {"path": url.path, "query": dict(parse_qsl(url.query, keep_blank_values=True))}


def reachable(url, timeout):
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=min(timeout, 10)):
            return True
    except OSError:
        return False


def text_of(element):
    """The element's text with whitespace collapsed (textContent: independent of CSS text-transform)."""
    return " ".join((element.get_attribute("textContent") or "").split())


def make_driver(args, profile):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    width, height = PHONE if args.mobile else DESKTOP
    options = webdriver.ChromeOptions()
    chromium = args.chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--user-data-dir=" + profile, "--window-size=%d,%d" % (width, height),
                 "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                 "--disable-background-networking", "--disable-sync", "--password-store=basic"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver_path = args.chromedriver or shutil.which("chromedriver") or "/usr/bin/chromedriver"
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(args.timeout)
    driver.set_script_timeout(args.timeout)
    driver.set_window_size(width, height)
    return driver


def where(driver):
    """The current page's path and title, for error messages (no query: it can carry a code)."""
    try:
        return "%s (title %r)" % (urlsplit(driver.current_url).path, driver.title)
    except Exception:
        return "unknown page"


def flow(args, driver, callback, result):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def wait_for(step, condition):
        try:
            return WebDriverWait(driver, args.timeout, poll_frequency=0.1).until(condition)
        except TimeoutException:
            raise StepFailed("timed out after %gs %s, at %s" % (args.timeout, step, where(driver)))

    def present(selector):
        found = driver.find_elements(By.CSS_SELECTOR, selector)
        return found[0] if found else None

    def state_after_sign_in(_):
        if callback.arrived.is_set():
            return "callback"
        if present("form#consent"):
            return "consent"
        alert = present(".error[role=alert], p.error")
        if alert is not None and present("#username"):
            return "login_error"
        if (urlsplit(driver.current_url).path.endswith("/login") and not present("#username")
                and driver.execute_script("return document.readyState") == "complete"):
            return "login_other"  # e.g. 429 Too Many Requests without the form
        return None

    try:
        driver.get(args.authorize_url)
    except TimeoutException:
        raise StepFailed("timed out after %gs loading the authorize URL" % args.timeout)
    first = wait_for("waiting for the login page (#username)",
                     lambda _: ("login" if present("#username") else "consent" if present("form#consent")
                                else "callback" if callback.arrived.is_set() else None))
    state = first
    if first == "login":
        result["login_seen"] = True
        username = driver.find_element(By.ID, "username")
        username.clear()
        username.send_keys(args.username)
        password = driver.find_element(By.ID, "password")
        password.clear()
        password.send_keys(args.password)
        driver.find_element(By.ID, "sign-in").click()
        state = wait_for("waiting for the consent page (#consent) after signing in", state_after_sign_in)
        if state == "login_error":
            raise StepFailed("sign-in refused: %s" % text_of(present(".error[role=alert], p.error")))
        if state == "login_other":
            body = present("body")
            raise StepFailed("sign-in answered a page without the login form: %r"
                             % (text_of(body)[:200] if body is not None else ""))

    if state == "callback":
        result["consent_seen"] = False  # consent was remembered: no page to decide on
        return

    result["consent_seen"] = True
    path = os.path.abspath(args.screenshot)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not driver.save_screenshot(path):
        raise StepFailed("could not save the screenshot to %s" % path)
    result["screenshot"] = path
    result["consent_title"] = driver.title
    heading = present("h1")
    result["consent_heading"] = text_of(heading) if heading is not None else None
    scopes = []
    for item in driver.find_elements(By.CSS_SELECTOR, "#scopes li.scope"):
        codes = item.find_elements(By.TAG_NAME, "code")
        spans = item.find_elements(By.TAG_NAME, "span")
        scopes.append({"scope": text_of(codes[0]) if codes else None,
                       "description": text_of(spans[0]) if spans else None})
    result["scopes"] = scopes

    button = present("form#consent #" + args.decision)
    if button is None:
        raise StepFailed("the consent form has no #%s button" % args.decision)
    button.click()
    if not callback.arrived.wait(args.timeout):
        raise StepFailed("timed out after %gs waiting for the callback request after #%s, at %s"
                         % (args.timeout, args.decision, where(driver)))


class StepFailed(Exception):
    pass


def console_errors(driver, limit=5):
    """The browser console's errors (a blocked navigation, a CSP violation), to explain a failed step."""
    try:
        entries = driver.get_log("browser")
    except Exception:
        return []
    return [entry.get("message", "")[:500] for entry in entries if entry.get("level") == "SEVERE"
            and "/favicon.ico " not in entry.get("message", "")][:limit]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    result = {
        "login_seen": False,
        "consent_seen": False,
        "consent_title": None,
        "consent_heading": None,
        "scopes": [],
        "callback": None,
        "screenshot": None,
        "frame_options": None,
        "window": "%dx%d" % (PHONE if args.mobile else DESKTOP),
    }
    if not reachable(args.authorize_url, args.timeout):
        print("browser_consent: could not reach %s" % urlsplit(args.authorize_url).netloc, file=sys.stderr)
        return 2

    try:
        callback = CallbackServer(args.callback_port)
    except OSError as error:
        result["error"] = "could not listen on 127.0.0.1:%d: %s" % (args.callback_port, error)
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
        return 1

    callback.start()
    profile = tempfile.mkdtemp(prefix="browser-consent-")
    driver = None
    try:
        driver = make_driver(args, profile)
        flow(args, driver, callback, result)
    except StepFailed as error:
        result["error"] = str(error)
        result["console"] = console_errors(driver)
    except Exception as error:  # a WebDriver or browser failure: reported, not raised
        message = (getattr(error, "msg", None) or str(error)).strip().splitlines()
        result["error"] = "%s: %s" % (type(error).__name__, message[0] if message else "")
    finally:
        result["callback"] = callback.result()
        if driver is not None:
            try:
                driver.quit()
            except Exception:
                pass
        callback.stop()
        shutil.rmtree(profile, ignore_errors=True)

    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main())
