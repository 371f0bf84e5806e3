#!/usr/bin/env python3
"""A local webhook sink: see what ramp's notifications send (Python 3 standard library only).

    python3 examples/notify/sink.py [--port 8787] [--out notifications.jsonl]

Point a `webhook` target at http://127.0.0.1:8787/ (it binds 127.0.0.1 only). Each notification prints one line
on stdout: time, event (the X-Ramp-Event header, else the document's `event`), flag, `from.percent -> to.percent`
and the Idempotency-Key, such as

    12:00:05  advance  checkout-v2  5% -> 25%  key=…

and its JSON document is appended to --out as one line (as received, line breaks turned into spaces). A
notification whose Idempotency-Key was already seen (ramp retrying one that did arrive) is answered 200 too, but
printed as `duplicate, ignored` and not appended again. The keys seen are remembered until the sink stops. A
body that is not JSON is answered 400. Ctrl-C stops it.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
SEEN = set()


def reject_constant(name):
    raise ValueError("not JSON: %s" % name)


def clean(value):
    """Text for the terminal: control characters escaped, so a document cannot move the cursor."""
    text = value if isinstance(value, str) else json.dumps(value)
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def percent(doc, side):
    """`from.percent` / `to.percent` of ramp's document as `25%`, or `-` when absent or null."""
    value = doc.get(side) if isinstance(doc, dict) else None
    value = value.get("percent") if isinstance(value, dict) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "%g%%" % value
    return "-" if value is None else clean(value)


def field(doc, name):
    value = doc.get(name) if isinstance(doc, dict) else None
    return None if value is None else clean(value)


class Handler(BaseHTTPRequestHandler):
    server_version = "ramp-notify-sink/1"

    def log_message(self, format, *args):  # quiet: one line per notification instead
        pass

    def answer(self, status, message):
        body = (json.dumps({"ok": status == 200, "message": message}) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            doc = json.loads(raw.decode("utf-8"), parse_constant=reject_constant)
        except ValueError as error:
            print("%s  (a body that is not JSON, rejected: %s)" % (time.strftime("%H:%M:%S"), error), flush=True)
            self.answer(400, "not JSON")
            return
        key = self.headers.get("Idempotency-Key")
        event = self.headers.get("X-Ramp-Event")
        line = "%s  %s  %s  %s -> %s  key=%s" % (
            time.strftime("%H:%M:%S"), clean(event) if event else field(doc, "event") or "?",
            field(doc, "flag") or "-", percent(doc, "from"), percent(doc, "to"),
            clean(key) if key is not None else "-")
        with LOCK:
            if key is not None and key in SEEN:
                print(line + "  duplicate, ignored", flush=True)
                self.answer(200, "duplicate, ignored")
                return
            try:
                with open(self.server.out, "ab") as f:
                    f.write(raw.replace(b"\r", b" ").replace(b"\n", b" ").strip() + b"\n")
            except OSError as error:
                print(line + "  NOT SAVED: %s" % error, flush=True)
                self.answer(500, "cannot write %s" % self.server.out)  # not marked seen: a retry may succeed
                return
            if key is not None:
                SEEN.add(key)
        print(line, flush=True)
        self.answer(200, "ok")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8787, help="the port on 127.0.0.1 (default 8787)")
    parser.add_argument("--out", default="notifications.jsonl", help="where to append each document")
    args = parser.parse_args()
    folder = os.path.dirname(args.out)
    if folder:
        os.makedirs(folder, exist_ok=True)
    try:
        server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    except OSError as error:
        sys.exit("sink: cannot listen on 127.0.0.1:%d: %s" % (args.port, error))
    server.daemon_threads = True
    server.out = args.out
    # Both stop it with exit 0. SIGINT is set explicitly: a shell's background job starts with it ignored.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, frame: sys.exit(0))
    sys.stderr.write("sink: listening on http://127.0.0.1:%d/, appending to %s (Ctrl-C stops)\n"
                     % (server.server_address[1], os.path.abspath(args.out)))
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
