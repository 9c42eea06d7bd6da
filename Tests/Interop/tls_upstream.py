"""HTTPS upstreams for the gateway's TLS tests (docs/tls.md §2).

Each `--serve NAME,CERT,KEY[,CLIENT_CA]` starts one HTTPS server on a free port
of 127.0.0.1 and prints `NAME listening on https://127.0.0.1:PORT`. With a
CLIENT_CA the server requires a client certificate signed by it (mutual TLS).
Every request is answered with JSON: the upstream's name, the request target,
the request headers and the common name of the client's certificate, if any.
"""

import argparse
import json
import signal
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def handler_for(name):
    class Echo(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            peer = self.connection.getpeercert()
            common_name = None
            if peer:
                for rdn in peer.get("subject", ()):
                    for key, value in rdn:
                        if key == "commonName":
                            common_name = value
            body = json.dumps(
                {
                    "upstream": name,
                    "target": self.path,
                    "headers": {key: value for key, value in self.headers.items()},
                    "clientCertificate": common_name,
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            pass

    return Echo


def serve(spec):
    parts = spec.split(",")
    name, certificate, key = parts[0], parts[1], parts[2]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certificate, key)
    if len(parts) > 3:
        context.load_verify_locations(parts[3])
        context.verify_mode = ssl.CERT_REQUIRED
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(name))
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"{name} listening on https://127.0.0.1:{server.server_address[1]}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="append", required=True)
    arguments = parser.parse_args()
    servers = [serve(spec) for spec in arguments.serve]
    # Serves until the test stops the process (SIGTERM ends it).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
