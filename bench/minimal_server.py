"""The least a mail API server can do: read each request whole and answer 202.

``bench/send.py`` sends to it to measure the physical ceiling of client -> network on this
machine, and to run the whole send path without the cost of the full-validation test server
(which checks every v3 Mail Send rule and records what it received). Usage:
``python bench/minimal_server.py --port 8026``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_ids = itertools.count(1)
_lock = threading.Lock()
_counts = {"requests": 0, "bytes": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        with _lock:
            _counts["requests"] += 1
            _counts["bytes"] += len(body)
        self.send_response(202)
        self.send_header("X-Message-Id", f"minimal-{next(_ids)}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # /__stats
        with _lock:
            data = json.dumps(_counts).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", arguments.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
