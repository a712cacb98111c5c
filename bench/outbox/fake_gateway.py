"""A fake WhatsApp Cloud API for bench/outbox/run.py: `POST /{version}/{phone_number_id}/messages` answered like the
Graph API, failing a share of calls (a third each: HTTP 500, HTTP 429 with error 130429 and Retry-After, and a
timeout: no answer until the client has given up, then the connection is dropped), and recording every message
it accepted (by its `to` number, unique per outbox row in the bench), so the bench can check none was sent twice.

    python bench/outbox/fake_gateway.py --port 8099
    POST /control {"fail": 0.3, "latency_ms": 20, "timeout_s": 0.8}   set the behaviour and forget what was accepted
    GET  /stats                                                      {"accepted": {to: count}, "calls": {...}}

A message that timed out is never recorded as accepted: the fake drops it (a real provider might have sent it;
the outbox then sends it again, which is the one duplicate the Cloud API cannot prevent).
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fail = 0.0
        self.latency = 0.02
        self.timeout = 0.8
        self.accepted: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.serial = 0

    def reset(self, *, fail: float, latency_ms: float, timeout_s: float) -> None:
        with self.lock:
            self.fail, self.latency, self.timeout = fail, latency_ms / 1000, timeout_s
            self.accepted.clear()
            self.calls.clear()


STATE = State()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and the client's delayed ACK
        # add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):  # noqa: A002 (quiet: the bench prints its own figures)
        return

    def _answer(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self):
        if self.path == "/stats":
            with STATE.lock:
                self._answer(200, {"accepted": dict(STATE.accepted), "calls": dict(STATE.calls)})
        else:
            self._answer(404, {})

    def do_POST(self):
        body = self._body()
        if self.path == "/control":
            STATE.reset(
                fail=float(body.get("fail", 0)),
                latency_ms=float(body.get("latency_ms", 20)),
                timeout_s=float(body.get("timeout_s", 0.8)),
            )
            self._answer(200, {"ok": True})
            return
        if not self.path.endswith("/messages"):
            self._answer(404, {})
            return
        time.sleep(STATE.latency)
        to = str(body.get("to") or body.get("recipient") or "")
        draw = random.random()
        with STATE.lock:
            fail = STATE.fail
        if draw < fail / 3:
            with STATE.lock:
                STATE.calls["500"] += 1
            self._answer(500, {"error": {"message": "Service temporarily unavailable", "code": 131016}})
        elif draw < 2 * fail / 3:
            with STATE.lock:
                STATE.calls["429"] += 1
            self._answer(429, {"error": {"message": "Rate limit hit", "code": 130429}}, headers={"Retry-After": "1"})
        elif draw < fail:
            with STATE.lock:
                STATE.calls["timeout"] += 1
                wait = STATE.timeout
            time.sleep(wait)  # past the client's timeout; then no answer at all
            self.close_connection = True
        else:
            with STATE.lock:
                STATE.calls["200"] += 1
                STATE.accepted[to] += 1
                STATE.serial += 1
                serial = STATE.serial
            self._answer(
                200,
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to, "wa_id": to}],
                    "messages": [{"id": f"wamid.bench.{serial}"}],
                },
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    server.serve_forever()


if __name__ == "__main__":
    main()
