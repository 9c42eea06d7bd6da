"""Clients of the gateway's TLS listeners (docs/tls.md), for the end-to-end tests.

Subcommands, each printing one `ok …` line per check and exiting non-zero with
the reason on the first check that fails:

  listeners  Python requests with the test CA against the main, admin and authz
             listeners; the upstreams over HTTPS (a private CA, mutual TLS, a
             certificate for another name); TLS 1.1 refused; plain HTTP refused.
  swap       a keep-alive connection is opened, the certificate files are
             replaced, new connections get the new certificate (waited for, at
             most 15 s) while the open connection keeps working.
  serial     prints the serial number of the certificate a new connection gets.
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import ssl
import sys
import time
import warnings

import requests


def fail(message):
    print(f"FAILED: {message}", flush=True)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)
    print(f"ok {message}", flush=True)


def context(ca):
    result = ssl.create_default_context(cafile=ca)
    return result


def serial_of(binary_certificate):
    """The serial number of a DER certificate."""
    from cryptography import x509

    return x509.load_der_x509_certificate(binary_certificate).serial_number


def new_connection_serial(port, ca):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context(ca).wrap_socket(raw, server_hostname="localhost") as tls:
            return serial_of(tls.getpeercert(binary_form=True))


def listeners(arguments):
    base = f"https://localhost:{arguments.port}"
    secure = requests.get(f"{base}/tls/secure", verify=arguments.ca, timeout=10)
    check(secure.status_code == 200, "requests reaches the main listener over HTTPS with the test CA")
    echoed = secure.json()
    check(echoed["upstream"] == "secure", "the upstream over HTTPS with a private CA answered")
    check(echoed["headers"].get("X-Forwarded-Proto") == "https", "the upstream is told X-Forwarded-Proto: https")
    check("proto=https" in echoed["headers"].get("Forwarded", ""), "the upstream is told Forwarded: proto=https")

    mutual = requests.get(f"{base}/tls/mutual", verify=arguments.ca, timeout=10)
    check(mutual.status_code == 200, "an upstream that requires a client certificate answered")
    check(mutual.json()["clientCertificate"] == "linkgate-gateway", "the gateway presented its client certificate")

    without = requests.get(f"{base}/tls/mutual-without-certificate", verify=arguments.ca, timeout=10)
    check(without.status_code == 502, "without the client certificate the mutual-TLS upstream is a 502")

    wrong = requests.get(f"{base}/tls/wrong-name", verify=arguments.ca, timeout=10)
    check(wrong.status_code == 502, "an upstream certificate for another name is a 502")
    check(wrong.json().get("error") == "bad_gateway", "with the bad_gateway body")

    untrusted = None
    try:
        requests.get(f"{base}/tls/secure", timeout=10)
    except requests.exceptions.SSLError as error:
        untrusted = error
    check(untrusted is not None, "a client without the test CA does not trust the gateway's certificate")

    admin = requests.get(f"https://localhost:{arguments.admin_port}/healthz", verify=arguments.ca, timeout=10)
    check(admin.status_code == 200, "the admin listener answers over HTTPS")

    decision = requests.get(
        f"https://localhost:{arguments.authz_port}/",
        headers={"X-Forwarded-Method": "GET", "X-Forwarded-Uri": "/tls/secure"},
        verify=arguments.ca,
        timeout=10,
    )
    check(decision.status_code == 200, "the authz listener decides over HTTPS")
    check(decision.headers.get("X-Linkgate-Auth") == "anonymous", "with the identity headers")

    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(arguments.ca)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the point is to offer what is deprecated
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("DEFAULT:@SECLEVEL=0")
    refusal = None
    try:
        with socket.create_connection(("127.0.0.1", arguments.port), timeout=5) as raw:
            with old.wrap_socket(raw, server_hostname="localhost"):
                pass
    except ssl.SSLError as error:
        refusal = str(error)
    check(refusal is not None and "PROTOCOL_VERSION" in refusal.upper(), f"TLS 1.1 is refused: {refusal}")

    with socket.create_connection(("127.0.0.1", arguments.port), timeout=5) as raw:
        raw.sendall(b"GET /tls/secure HTTP/1.1\r\nHost: localhost\r\n\r\n")
        answer = b""
        while True:
            chunk = raw.recv(65536)
            if not chunk:
                break
            answer += chunk
    text = answer.decode("latin-1")
    check(text.startswith("HTTP/1.1 400 Bad Request\r\n"), "plain HTTP to the TLS port gets a plain 400")
    check('"error":"invalid_request"' in text and "speaks HTTPS" in text, "which says to use HTTPS, and closes")


def replace(source, destination):
    """Writes `source` over `destination` as certificate tools do: a new file renamed into place."""
    temporary = destination + ".new"
    shutil.copyfile(source, temporary)
    os.chmod(temporary, 0o600)
    os.replace(temporary, destination)


def swap(arguments):
    kept = http.client.HTTPSConnection("localhost", arguments.port, context=context(arguments.ca), timeout=10)
    kept.request("GET", "/tls/secure")
    first = kept.getresponse()
    first.read()
    check(first.status == 200, "a keep-alive connection is open")
    kept_socket = kept.sock
    old_serial = serial_of(kept_socket.getpeercert(binary_form=True))
    check(old_serial == int(arguments.old_serial, 16), f"it was served the first certificate ({old_serial})")

    replace(arguments.new_key, arguments.key_file)
    replace(arguments.new_cert, arguments.cert_file)
    deadline = time.monotonic() + 15
    served = old_serial
    new_serial = int(arguments.new_serial, 16)
    while served != new_serial and time.monotonic() < deadline:
        time.sleep(0.1)
        served = new_connection_serial(arguments.port, arguments.ca)
    check(served == new_serial, f"new connections get the new certificate ({served})")

    kept.request("GET", "/tls/secure")
    again = kept.getresponse()
    again.read()
    check(again.status == 200, "the connection opened before the swap still works")
    check(kept.sock is kept_socket, "on the same connection, not a new one")
    check(serial_of(kept.sock.getpeercert(binary_form=True)) == old_serial, "which keeps its first certificate")
    kept.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["listeners", "swap", "serial"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--admin-port", type=int)
    parser.add_argument("--authz-port", type=int)
    parser.add_argument("--cert-file")
    parser.add_argument("--key-file")
    parser.add_argument("--new-cert")
    parser.add_argument("--new-key")
    parser.add_argument("--old-serial")
    parser.add_argument("--new-serial")
    arguments = parser.parse_args()
    if arguments.command == "listeners":
        listeners(arguments)
    elif arguments.command == "swap":
        swap(arguments)
    else:
        print(format(new_connection_serial(arguments.port, arguments.ca), "X"), flush=True)


if __name__ == "__main__":
    main()
