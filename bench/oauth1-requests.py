#!/usr/bin/env python3
"""Writes COUNT distinct OAuth 1.0a 2-legged Authorization headers, one a line, for `make bench-proxy`.

Usage: oauth1-requests.py PRIVATE_KEY_PEM CONSUMER_KEY METHOD URL COUNT OUTPUT [RATE]

Each line is what follows "OAuth " in the header: consumer key, RSA-SHA1, a
timestamp, a distinct nonce, version 1.0 and the signature over the RFC 5849
base string of METHOD URL (no token: 2-legged, acting as the link's executeAs
user; docs/links.md). Every nonce is new, so the gateway checks and records
every one, as it must for a real link.

The timestamps advance as a client's clock would while it sends RATE requests a
second: the first RATE lines carry the current second, the next RATE the second
after, and so on (without RATE, every line carries the current second, as if the
whole file were signed in one second). RATE is meant to be more than the gateway
serves, so a line arrives after its second, by at most the file's age; the window
is ±5 minutes, so a file is good for the run it was made for. Signed on every CPU
(multiprocessing) with the `cryptography` package.
"""
import base64
import multiprocessing
import os
import sys
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


def quote(text):
    return urllib.parse.quote(text, safe="-._~")


def sign_range(arguments):
    key_file, consumer, method, url, start, count, prefix, first_second, rate = arguments
    with open(key_file, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    parsed = urllib.parse.urlsplit(url)
    base_url = f"{parsed.scheme}://{parsed.netloc}{parsed.path}"
    lines = []
    for index in range(start, start + count):
        timestamp = str(first_second + (index // rate if rate else 0))
        parameters = {
            "oauth_consumer_key": consumer,
            "oauth_nonce": f"{prefix}{index}",
            "oauth_signature_method": "RSA-SHA1",
            "oauth_timestamp": timestamp,
            "oauth_version": "1.0",
        }
        normalized = "&".join(f"{quote(k)}={quote(v)}" for k, v in sorted(parameters.items()))
        base = "&".join([method.upper(), quote(base_url), quote(normalized)])
        signature = base64.b64encode(key.sign(base.encode(), padding.PKCS1v15(), hashes.SHA1())).decode()
        parameters["oauth_signature"] = signature
        lines.append(", ".join(f'{k}="{quote(v)}"' for k, v in parameters.items()) + "\n")
    return lines


def main():
    if len(sys.argv) not in (7, 8):
        raise SystemExit(__doc__)
    key_file, consumer, method, url, count, output = sys.argv[1:7]
    count = int(count)
    rate = int(sys.argv[7]) if len(sys.argv) == 8 else 0
    first_second = int(time.time())
    prefix = base64.b32encode(os.urandom(10)).decode().rstrip("=").lower()
    workers = max(1, os.cpu_count() or 1)
    share = (count + workers - 1) // workers
    jobs = [
        (key_file, consumer, method, url, start, min(share, count - start), prefix, first_second, rate)
        for start in range(0, count, share)
    ]
    with multiprocessing.Pool(len(jobs)) as pool, open(output, "w") as out:
        for lines in pool.imap(sign_range, jobs):
            out.writelines(lines)


if __name__ == "__main__":
    main()
