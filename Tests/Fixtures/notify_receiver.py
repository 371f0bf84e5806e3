#!/usr/bin/env python3
"""A webhook receiver that misbehaves on demand, for ramp's notification tests (Python 3 standard library only).

    python3 notify_receiver.py --port-file PORT --mode-file MODE --log LOG [--secret-env NAME]

It listens on 127.0.0.1 at a free port, writes that port to --port-file (atomically: a temporary name, then a
rename, once the socket is listening), and serves until SIGTERM or SIGINT, or until its parent process is gone,
then exits 0. Before every request it reads the first line of --mode-file (a missing or empty file means `ok`)
and answers accordingly: `ok`, `fail`, `fail:CODE`, `slow:SECONDS`, `close` or `refuse`; see README.md beside
this file. Every POST appends one JSON object to --log before it is answered:

    {"mode":…,"path":…,"key":…,"event":…,"signature":…,"signature_ok":…,"delivered":…,"body":…}

`delivered` is true only in mode `ok`. With --secret-env NAME, `signature_ok` says whether the request's
`X-Ramp-Signature-256` is `sha256=` and the lowercase hex HMAC-SHA-256 of the raw body under the key in the
environment variable NAME; without it, `signature_ok` is null.

`refuse` is done by closing the listening socket (a background thread polls the mode file every 50 ms) and
opening it again, on the same port, once the mode is something else.
"""

import argparse
import hashlib
import hmac
import json
import os
import select
import signal
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STOP = threading.Event()  # set on SIGTERM/SIGINT: wakes slow handlers and the mode watcher
LOG_LOCK = threading.Lock()
WATCH_INTERVAL = 0.05  # seconds between two reads of the mode file by the watcher
REBIND_WARN_AFTER = 2.0  # seconds of failing to re-open the port before saying so on stderr


class ModeError(Exception):
    pass


def write_atomically(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def append_record(path, record):
    """One JSON object on one line, written with a single write under a lock (ASCII only: non-ASCII and any
    lone surrogate are \\u-escaped, so every line is valid UTF-8 and valid JSON)."""
    data = (json.dumps(record, separators=(",", ":")) + "\n").encode("ascii")
    with LOG_LOCK:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            while data:
                data = data[os.write(fd, data):]
        finally:
            os.close(fd)


def read_mode(path):
    """The first line of the mode file, verbatim but for the line ending; `ok` when missing or empty."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return "ok"
    line = text.split("\n", 1)[0]
    if line.endswith("\r"):
        line = line[:-1]
    return line if line != "" else "ok"


def parse_mode(mode):
    """(handler name, parsed argument) for a mode line; ModeError when it is not a mode this receiver knows."""
    name, sep, text = mode.partition(":")
    if name in ("ok", "close", "refuse"):
        if sep:
            raise ModeError("%r: %s takes no argument" % (mode, name))
        return "mode_" + name, None
    if name == "fail":
        if not sep:
            return "mode_fail", 500
        try:
            code = int(text)
        except ValueError:
            code = None
        if code is None or not 200 <= code <= 599:
            raise ModeError("%r: fail:CODE, 200 <= CODE <= 599" % mode)
        return "mode_fail", code
    if name == "slow":
        try:
            seconds = float(text) if sep else None
        except ValueError:
            seconds = None
        if seconds is None or not 0 <= seconds < 3600:  # also rejects nan
            raise ModeError("%r: slow:SECONDS, 0 <= SECONDS < 3600" % mode)
        return "mode_slow", seconds
    raise ModeError("unknown mode %r" % mode)


def reject_constant(name):
    raise ValueError("not JSON: %s" % name)


def parse_body(raw):
    """The body as JSON (strictly: NaN and Infinity are not JSON), or else as text (invalid UTF-8 replaced)."""
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=reject_constant)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return text


def peer_gone(sock):
    """True when the client has closed its end (readable, and a peek reads nothing)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


class Receiver:
    """What every listener shares: the options, and the connections open now (so that `refuse` can close the
    idle kept-alive ones; otherwise a client's pooled connection would still get through)."""

    def __init__(self, mode_file, log, secret):
        self.mode_file = mode_file
        self.log = log
        self.secret = secret
        self.lock = threading.Lock()
        self.connections = {}  # socket -> True while a request is being handled on it
        self.refusing = False  # the listener is closed: answers still due close their connection

    def track(self, sock, busy):
        with self.lock:
            self.connections[sock] = busy

    def forget(self, sock):
        with self.lock:
            self.connections.pop(sock, None)

    def close_idle(self):
        with self.lock:
            idle = [sock for sock, busy in self.connections.items() if not busy]
        for sock in idle:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # the handler's read of the next request line ends: it exits
            except OSError:
                pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "notify_receiver/1"

    def log_message(self, format, *args):  # quiet: the --log file says what happened
        pass

    def setup(self):
        super().setup()
        self.server.receiver.track(self.connection, False)

    def finish(self):
        self.server.receiver.forget(self.connection)
        super().finish()

    def parse_request(self):  # a request line has come: busy until it is answered
        self.server.receiver.track(self.connection, True)
        return super().parse_request()

    def handle_one_request(self):
        try:
            super().handle_one_request()
        finally:
            self.server.receiver.track(self.connection, False)

    def do_POST(self):
        self.serve()

    def not_post(self):
        sys.stderr.write("notify_receiver: %s %s answered 405, not logged\n" % (self.command, self.path))
        self.read_body()
        self.send(405, b'{"error":"notify_receiver: only POST"}\n', [("Allow", "POST")])

    do_GET = do_PUT = do_PATCH = do_DELETE = not_post

    # --- plumbing

    def read_body(self):
        """The request body: Content-Length or chunked."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send(self, status, body, headers=()):
        if self.server.receiver.refusing:  # e.g. a `slow` answer due after the switch to `refuse`
            self.close_connection = True
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status in (204, 304):
            body = b""
        else:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def record(self, mode, raw, delivered):
        receiver = self.server.receiver
        signature = self.headers.get("X-Ramp-Signature-256")
        signature_ok = None
        if receiver.secret is not None:
            expected = "sha256=" + hmac.new(receiver.secret, raw, hashlib.sha256).hexdigest()
            signature_ok = signature is not None and hmac.compare_digest(
                expected.encode(), signature.encode("latin-1"))  # headers are decoded as Latin-1
        append_record(receiver.log, {
            "mode": mode,
            "path": self.path,
            "key": self.headers.get("Idempotency-Key"),
            "event": self.headers.get("X-Ramp-Event"),
            "signature": signature,
            "signature_ok": signature_ok,
            "delivered": delivered,
            "body": parse_body(raw),
        })

    # --- modes

    def serve(self):
        mode = read_mode(self.server.receiver.mode_file)
        try:
            raw = self.read_body()
        except ValueError:  # a bad Content-Length or chunk size
            self.close_connection = True
            self.send(400, b'{"error":"notify_receiver: bad request body framing"}\n')
            return
        try:
            handler, arg = parse_mode(mode)
        except ModeError as error:
            # A mistyped mode must not pass for an injected fault: it is marked in the log, said on stderr,
            # and answered with a status of its own.
            self.record("invalid:" + mode, raw, False)
            sys.stderr.write("notify_receiver: %s\n" % error)
            self.close_connection = True
            self.send(599, json.dumps({"error": "notify_receiver: bad mode file: %s" % error}).encode() + b"\n")
            return
        # The log line is written before the answer: once the client has its answer, the line is there.
        self.record(mode, raw, handler == "mode_ok")
        getattr(self, handler)(arg)

    def mode_ok(self, arg):
        self.send(200, b'{"ok":true}\n')

    def mode_fail(self, code):
        # The request's path (and query) is echoed, as many servers' error pages do: ramp must redact it.
        body = {"error": "notify_receiver: injected HTTP status %d" % code, "path": self.path}
        self.send(code, json.dumps(body).encode() + b"\n")

    def mode_slow(self, seconds):
        deadline = time.monotonic() + seconds
        while not STOP.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if peer_gone(self.connection):  # the client gave up: nobody to answer
                self.close_connection = True
                return
            STOP.wait(min(left, 0.1))
        if STOP.is_set():
            self.close_connection = True
            return
        try:
            self.send(200, b'{"ok":true}\n')
        except OSError:
            self.close_connection = True

    def mode_close(self, arg):
        self.close_connection = True  # no answer; the connection closes (FIN) when the handler returns

    def mode_refuse(self, arg):
        # A request on a connection accepted before the watcher closed the listener (within 50 ms of the
        # switch, or kept alive while busy): no answer, as in `close`.
        self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # closing the listener for `refuse` must not wait for slow handlers
    request_queue_size = 64
    allow_reuse_address = True  # SO_REUSEADDR: the port can be bound again while old connections linger

    def server_bind(self):
        # HTTPServer.server_bind would look up the host's name (getfqdn): not needed, and possibly slow.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return  # the client went away: expected in `slow` and `close`
        super().handle_error(request, client_address)


class Listener:
    """The listening socket, which `refuse` closes and re-opens on the same port."""

    def __init__(self, receiver):
        self.receiver = receiver
        self.server = None
        self.port = 0

    @property
    def is_open(self):
        return self.server is not None

    def open(self):
        """Binds (a free port the first time, the same port after), listens and serves; OSError if it cannot."""
        server = Server(("127.0.0.1", self.port), Handler)
        server.receiver = self.receiver
        self.server = server
        self.receiver.refusing = False
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": WATCH_INTERVAL},
                         daemon=True).start()

    def close(self):
        server, self.server = self.server, None
        server.shutdown()  # stops accepting (serve_forever returns)
        server.server_close()  # the listening socket: a connect is now refused; not yet accepted ones get RST
        self.receiver.refusing = True
        self.receiver.close_idle()


def watch(listener, parent):
    """Keeps the listener closed while the mode is `refuse`, open otherwise; stops the receiver when its parent
    process is gone."""
    failing_since = None
    warned = False
    while not STOP.wait(WATCH_INTERVAL):
        if os.getppid() != parent:
            # Orphaned: the test run that started it crashed or was killed before it could send SIGTERM.
            # A fixture must not outlive its test.
            sys.stderr.write("notify_receiver: parent process %d gone, stopping\n" % parent)
            STOP.set()
            return
        refuse = read_mode(listener.receiver.mode_file) == "refuse"
        if refuse and listener.is_open:
            listener.close()
            sys.stderr.write("notify_receiver: refuse: port %d closed\n" % listener.port)
        elif not refuse and not listener.is_open:
            try:
                listener.open()
            except OSError as error:
                # EADDRINUSE: something else took the port meanwhile. Keep trying; say so once.
                failing_since = failing_since or time.monotonic()
                if not warned and time.monotonic() - failing_since >= REBIND_WARN_AFTER:
                    sys.stderr.write("notify_receiver: cannot re-open port %d (still trying): %s\n"
                                     % (listener.port, error))
                    warned = True
                continue
            failing_since, warned = None, False
            sys.stderr.write("notify_receiver: port %d open again\n" % listener.port)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port-file", required=True, help="where to write the port the receiver listens on")
    parser.add_argument("--mode-file", required=True, help="read before each request; missing means ok")
    parser.add_argument("--log", required=True, help="one JSON line per request")
    parser.add_argument("--secret-env", metavar="NAME",
                        help="verify X-Ramp-Signature-256 with the HMAC key in this environment variable")
    args = parser.parse_args()

    secret = None
    if args.secret_env:
        value = os.environb.get(os.fsencode(args.secret_env))
        if value is None:
            parser.error("--secret-env %s: the environment variable is not set" % args.secret_env)
        secret = value

    def stop(signum, frame):
        STOP.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    parent = os.getppid()
    listener = Listener(Receiver(args.mode_file, args.log, secret))
    listener.open()
    if read_mode(args.mode_file) == "refuse":  # refusing from the start: closed before the port is published
        listener.close()
    write_atomically(args.port_file, str(listener.port))
    watcher = threading.Thread(target=watch, args=(listener, parent), daemon=True)
    watcher.start()
    while not STOP.wait(0.5):
        pass
    watcher.join(5)
    if listener.is_open:
        listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
