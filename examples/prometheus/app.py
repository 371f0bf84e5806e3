#!/usr/bin/env python3
"""A tiny stand-in for a service behind the checkout-v2 flag: it serves Prometheus counters per variant.

Each variant gets about 100 requests a second; the baseline fails 0.5% of them and the canary fails
CANARY_ERROR_RATE of them (default 0.005, as healthy as the baseline). Counters grow with wall time, so
Prometheus' rate() sees steady traffic. Listens on 127.0.0.1 only.

    python3 app.py 19091                          # a healthy canary
    CANARY_ERROR_RATE=0.08 python3 app.py 19091   # a canary with a bug
"""
import http.server
import os
import sys
import time

START = time.time()
RATES = {"off": 0.005, "on": float(os.environ.get("CANARY_ERROR_RATE", "0.005"))}
REQUESTS_PER_SECOND = 100.0


class Metrics(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/metrics":
            self.send_response(404)
            self.end_headers()
            return
        elapsed = time.time() - START
        lines = ["# TYPE demo_requests_total counter", "# TYPE demo_errors_total counter"]
        for variant, error_rate in RATES.items():
            labels = f'flag="checkout-v2",variant="{variant}"'
            requests = elapsed * REQUESTS_PER_SECOND
            lines.append(f"demo_requests_total{{{labels}}} {requests:.0f}")
            lines.append(f"demo_errors_total{{{labels}}} {requests * error_rate:.0f}")
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 19091
    http.server.HTTPServer(("127.0.0.1", port), Metrics).serve_forever()
