#!/usr/bin/env python3
"""A tiny stand-in for a service behind the checkout-v2 flag, serving Prometheus counters per variant.

On every scrape it simulates the requests since the last one (REQUESTS_PER_SECOND, default 1000) from random
users, asks `ramp eval checkout-v2 --keys -` which variant each user gets — the same bucketing a real app
would use — and counts requests and errors per variant. The baseline fails 0.5% of its requests; the canary
fails CANARY_ERROR_RATE of them (default 0.005, as healthy as the baseline). Listens on 127.0.0.1 only.

    RAMP_BIN=.build/debug/ramp RAMP_STORE=/tmp/ramp.db python3 app.py 19091
"""
import http.server
import os
import random
import subprocess
import sys
import time

FLAG = "checkout-v2"
ERROR_RATES = {"off": 0.005, "on": float(os.environ.get("CANARY_ERROR_RATE", "0.005"))}
REQUESTS_PER_SECOND = float(os.environ.get("REQUESTS_PER_SECOND", "1000"))
requests = {"on": 0, "off": 0}
errors = {"on": 0, "off": 0}
last = time.time()


def variants_for(users):
    """The variant ramp serves to each user; the baseline while the flag does not exist yet."""
    try:
        out = subprocess.run(
            [os.environ["RAMP_BIN"], "eval", FLAG, "--keys", "-", "--store", os.environ["RAMP_STORE"]],
            input="\n".join(users), capture_output=True, text=True, timeout=10, check=True).stdout
        return [line.split("\t")[1] for line in out.splitlines()]
    except (subprocess.SubprocessError, KeyError, IndexError):
        return ["off"] * len(users)


def simulate():
    global last
    now = time.time()
    users = [f"user-{random.randrange(1_000_000)}" for _ in range(int((now - last) * REQUESTS_PER_SECOND))]
    last = now
    for variant in variants_for(users):
        requests[variant] += 1
        if random.random() < ERROR_RATES[variant]:
            errors[variant] += 1


class Metrics(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/metrics":
            self.send_response(404)
            self.end_headers()
            return
        simulate()
        lines = ["# TYPE demo_requests_total counter", "# TYPE demo_errors_total counter"]
        for variant in ("on", "off"):
            labels = f'flag="{FLAG}",variant="{variant}"'
            lines.append(f"demo_requests_total{{{labels}}} {requests[variant]}")
            lines.append(f"demo_errors_total{{{labels}}} {errors[variant]}")
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
