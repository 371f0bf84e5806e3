#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of a real Prometheus, for ramp's tests (Python 3 standard library only).

    python3 fault_proxy.py --upstream http://127.0.0.1:9090 --port-file PORT --mode-file MODE
        [--log LOG] [--echo-port-file ECHO_PORT] [--echo-log ECHO_LOG]

It listens on 127.0.0.1 at a free port, writes that port to --port-file (atomically: a temporary name, then a
rename, once the socket is listening), and serves until SIGTERM or SIGINT, then exits 0. Before every request
it reads the first line of --mode-file (a missing or empty file means `pass`) and answers accordingly; see
README.md beside this file for the modes. Every request appends `MODE<TAB>METHOD<TAB>PATH?QUERY` to --log
before it is answered.

--echo-port-file starts a second listener (also 127.0.0.1, another free port) that appends the Authorization
header of every request it gets to --echo-log (`-` when absent) and answers 200 with a one-series vector whose
value is "0": the target for `redirect:URL`, to see whether credentials follow a redirect.
"""

import argparse
import datetime
import http.client
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STOP = threading.Event()  # set on SIGTERM/SIGINT: wakes hanging and trickling handlers
LOG_LOCK = threading.Lock()
UPSTREAM_TIMEOUT = 30  # seconds

# Request headers not forwarded upstream (hop-by-hop, recomputed, or asking for a compressed body).
DROP_REQUEST = {
    "host", "connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "content-length", "accept-encoding",
}
# Upstream response headers not passed back (hop-by-hop, recomputed, or set by BaseHTTPRequestHandler).
DROP_RESPONSE = {
    "connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "date", "server",
}

# errorType Prometheus uses for a status (web/api/v1/api.go); anything else 4xx is bad_data, 5xx internal.
ERROR_TYPES = {400: "bad_data", 404: "not_found", 422: "execution", 499: "canceled", 500: "internal",
               503: "unavailable"}


class ModeError(Exception):
    pass


def append_line(path, line):
    if not path:
        return
    data = (line.replace("\n", "\\n") + "\n").encode("utf-8", "surrogateescape")
    with LOG_LOCK:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


def write_atomically(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_mode(path):
    """The first line of the mode file, verbatim but for the line ending; `pass` when missing or empty."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return "pass"
    line = text.split("\n", 1)[0]
    if line.endswith("\r"):
        line = line[:-1]
    return line if line != "" else "pass"


def parse_mode(mode):
    """(handler name, parsed argument) for a mode line; ModeError when it is not a mode this proxy knows."""
    name, sep, text = mode.partition(":")
    arg = text if sep else None

    def number(kind, check, usage):
        try:
            value = kind(arg)
        except (TypeError, ValueError):
            raise ModeError("%r: %s" % (mode, usage))
        if not check(value):
            raise ModeError("%r: %s" % (mode, usage))
        return value

    if name in ("pass", "empty", "garbage", "truncated", "hang", "down", "reset", "no-status"):
        if arg is not None:
            raise ModeError("%r: %s takes no argument" % (mode, name))
    elif name == "value":
        if arg is None:
            raise ModeError("%r: value:TEXT (TEXT may be empty)" % mode)
    elif name in ("value-json", "redirect"):
        if not arg:
            raise ModeError("%r: %s:%s" % (mode, name, "JSON" if name == "value-json" else "URL"))
    elif name == "series":
        arg = number(int, lambda n: n >= 0, "series:N, N >= 0")
    elif name in ("status", "status-plain"):
        arg = number(int, lambda n: 100 <= n <= 999, "%s:CODE, 100 <= CODE <= 999" % name)
    elif name == "trickle":
        arg = number(float, lambda s: 0 <= s < 3600, "trickle:SECONDS, 0 <= SECONDS < 3600")
    elif name == "wrong-type":
        if arg not in ("matrix", "string", "scalar"):
            raise ModeError("%r: wrong-type:matrix, wrong-type:string or wrong-type:scalar" % mode)
    else:
        raise ModeError("unknown mode %r" % mode)
    return "mode_" + name.replace("-", "_"), arg


def query_time(path):
    """The request's `time=` parameter as a number, or now."""
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    text = params.get("time", [""])[0]
    try:
        value = float(text)
    except ValueError:
        try:
            value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
        except ValueError:
            value = time.time()
    try:
        return int(value) if value == int(value) else round(value, 3)
    except (ValueError, OverflowError):  # nan, inf
        return round(time.time(), 3)


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def prometheus_body(data):
    return dumps({"status": "success", "data": data}).encode("utf-8")


def peer_gone(sock):
    """True when the client has closed its end (readable, and a peek reads nothing)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class Upstream:
    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SystemExit("fault_proxy: --upstream must be an http(s) URL: %r" % url)
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.prefix = parts.path.rstrip("/")

    def request(self, method, path, headers, body):
        """(status, [(name, value)], body bytes); raises OSError/HTTPException when the upstream fails."""
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=UPSTREAM_TIMEOUT)
        try:
            out = {k: v for k, v in headers.items() if k.lower() not in DROP_REQUEST}
            out["Accept-Encoding"] = "identity"
            conn.request(method, self.prefix + path, body=body, headers=out)
            response = conn.getresponse()
            data = response.read()
            return response.status, [(k, v) for k, v in response.getheaders()
                                     if k.lower() not in DROP_RESPONSE], data
        finally:
            conn.close()


def replace_values(body, raw):
    """Replaces every sample value (vector value[1], scalar/string result[1], matrix values[j][1]) in a
    Prometheus answer by the raw JSON text `raw`. Returns (new body, how many were replaced); a body that is
    not a success answer is returned unchanged."""
    try:
        doc = json.loads(body)
        data = doc["data"]
        kind, result = data["resultType"], data["result"]
    except (ValueError, KeyError, TypeError):
        return body, 0
    token = "__fault_proxy_%s__" % uuid.uuid4().hex
    count = 0
    if kind == "vector":
        for series in result:
            if isinstance(series.get("value"), list) and len(series["value"]) >= 2:
                series["value"][1] = token
                count += 1
    elif kind in ("scalar", "string"):
        if isinstance(result, list) and len(result) >= 2:
            result[1] = token
            count += 1
    elif kind == "matrix":
        for series in result:
            for sample in series.get("values", []):
                sample[1] = token
                count += 1
    text = dumps(doc).replace(dumps(token), raw)
    return text.encode("utf-8", "surrogateescape"), count


def first_series(body, at):
    """The upstream answer's first series as a vector element; a label-less "0" when it has none."""
    try:
        data = json.loads(body)["data"]
        if data["resultType"] == "vector" and data["result"]:
            return data["result"][0]
        if data["resultType"] == "scalar":
            return {"metric": {}, "value": data["result"]}
    except (ValueError, KeyError, TypeError, IndexError):
        pass
    return {"metric": {}, "value": [at, "0"]}


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault_proxy/1"

    def log_message(self, format, *args):  # quiet: the --log file says what happened
        pass

    def do_GET(self):
        self.serve()

    def do_POST(self):
        self.serve()

    # --- plumbing

    def request_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else None

    def send(self, status, body, content_type="application/json", headers=(), length=None):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if content_type and not any(n.lower() == "content-type" for n, _ in headers):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def fetch(self, body):
        """The upstream's answer, or None after answering 502 itself when the upstream failed."""
        try:
            return self.server.upstream.request(self.command, self.path, self.headers, body)
        except (OSError, http.client.HTTPException) as error:
            message = "fault_proxy: upstream failed: %s" % (error,)
            self.send(502, message.encode() + b"\n", "text/plain; charset=utf-8")
            return None

    def wait_for_peer_or_stop(self):
        while not STOP.is_set():
            if peer_gone(self.connection):
                return
            STOP.wait(0.2)

    # --- modes

    def serve(self):
        mode = read_mode(self.server.mode_file)
        try:
            handler, arg = parse_mode(mode)
        except ModeError as error:
            # A mistyped mode must not pass for an injected fault: it is marked in the log, said on stderr,
            # and answered with a status of its own.
            append_line(self.server.log, "invalid:%s\t%s\t%s" % (mode, self.command, self.path))
            sys.stderr.write("fault_proxy: %s\n" % error)
            self.request_body()
            self.close_connection = True
            self.send(599, ("fault_proxy: bad mode file: %s\n" % error).encode("utf-8", "surrogateescape"),
                      "text/plain; charset=utf-8")
            return
        append_line(self.server.log, "%s\t%s\t%s" % (mode, self.command, self.path))
        getattr(self, handler)(arg, self.request_body())

    def mode_pass(self, arg, body):
        answer = self.fetch(body)
        if answer:
            status, headers, data = answer
            self.send(status, data, None, headers)

    def mode_value(self, arg, body):
        self.replace(dumps(arg), body)

    def mode_value_json(self, arg, body):
        self.replace(arg, body)

    def replace(self, raw, body):
        answer = self.fetch(body)
        if answer:
            status, headers, data = answer
            data, count = replace_values(data, raw)
            if count == 0:
                sys.stderr.write("fault_proxy: %s: the upstream answer had no sample to replace\n" % self.path)
            self.send(status, data, None, headers)

    def mode_empty(self, arg, body):
        self.send(200, prometheus_body({"resultType": "vector", "result": []}))

    def mode_series(self, n, body):
        answer = self.fetch(body)
        if answer:
            first = first_series(answer[2], query_time(self.path))
            result = []
            for i in range(n):
                metric = dict(first.get("metric", {}))
                metric["fault_proxy_copy"] = str(i)
                result.append({"metric": metric, "value": list(first["value"])})
            self.send(200, prometheus_body({"resultType": "vector", "result": result}))

    def mode_status(self, code, body):
        if code >= 400:
            error = {"status": "error", "errorType": ERROR_TYPES.get(code, "bad_data" if code < 500 else "internal"),
                     "error": "fault_proxy: injected HTTP status %d" % code}
            self.send(code, dumps(error).encode())
        elif code < 200 or code in (204, 304):  # no body allowed: headers, then close
            self.close_connection = True
            self.send_response(code)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()
        else:  # 2xx/3xx: the upstream's own body under another status
            answer = self.fetch(body)
            if answer:
                self.send(code, answer[2], None, answer[1])

    def mode_status_plain(self, code, body):
        text = "<html><body>fault_proxy: injected HTTP status %d</body></html>\n" % code
        self.send(code, text.encode(), "text/html; charset=utf-8")

    def mode_garbage(self, arg, body):
        data = b"\xff\xfe\x00{\"status\":\xc3\x28" + os.urandom(48) + b"\x00\x80\xbf\xed\xa0\x80"
        self.send(200, data)

    def mode_truncated(self, arg, body):
        answer = self.fetch(body)
        if answer:
            status, headers, data = answer
            self.close_connection = True
            self.send(status, data[: len(data) // 2], None, headers, length=len(data))

    def mode_trickle(self, delay, body):
        answer = self.fetch(body)
        if not answer:
            return
        status, headers, data = answer
        self.close_connection = True
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()
        for i in range(len(data)):
            if STOP.wait(delay) or peer_gone(self.connection):
                return
            self.wfile.write(data[i:i + 1])
            self.wfile.flush()

    def mode_hang(self, arg, body):
        self.close_connection = True
        self.wait_for_peer_or_stop()

    def mode_redirect(self, arg, body):
        self.send(302, b"", None, [("Location", arg)])

    def mode_down(self, arg, body):
        self.close_connection = True  # no answer; the connection closes (FIN) when the handler returns

    def mode_reset(self, arg, body):
        # No answer, and an RST rather than a FIN: SO_LINGER 0, and closed here so that the server does not
        # shut the writing side down (a FIN) first; the descriptor closes once the handler's files are closed.
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def mode_wrong_type(self, arg, body):
        at = query_time(self.path)
        if arg == "string":
            data = {"resultType": "string", "result": [at, "0.5"]}
        else:  # matrix or scalar
            answer = self.fetch(body)
            if not answer:
                return
            first = first_series(answer[2], at)
            if arg == "matrix":
                t, v = first["value"]
                data = {"resultType": "matrix",
                        "result": [{"metric": first.get("metric", {}), "values": [[t - 60, v], [t, v]]}]}
            else:
                data = {"resultType": "scalar", "result": first["value"]}
        self.send(200, prometheus_body(data))

    def mode_no_status(self, arg, body):
        answer = self.fetch(body)
        if answer:
            try:
                data = json.loads(answer[2]).get("data")
            except (ValueError, AttributeError):
                data = None
            self.send(200, dumps({"data": data}).encode())


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault_proxy-echo/1"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:
            self.rfile.read(length)
        append_line(self.server.echo_log, self.headers.get("Authorization") or "-")
        body = prometheus_body({"resultType": "vector",
                                "result": [{"metric": {}, "value": [query_time(self.path), "0"]}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return  # the client went away: expected for most fault modes
        super().handle_error(request, client_address)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="the Prometheus to forward to, e.g. http://127.0.0.1:9090")
    parser.add_argument("--port-file", required=True, help="where to write the port the proxy listens on")
    parser.add_argument("--mode-file", required=True, help="read before each request; missing means pass")
    parser.add_argument("--log", help="one line per request: mode, method, path")
    parser.add_argument("--echo-port-file", help="start the echo listener and write its port here")
    parser.add_argument("--echo-log", help="the echo listener's Authorization log")
    args = parser.parse_args()

    servers = []
    proxy = Server(("127.0.0.1", 0), ProxyHandler)
    proxy.upstream = Upstream(args.upstream)
    proxy.mode_file = args.mode_file
    proxy.log = args.log
    servers.append((proxy, args.port_file))
    if args.echo_port_file:
        echo = Server(("127.0.0.1", 0), EchoHandler)
        echo.echo_log = args.echo_log
        servers.append((echo, args.echo_port_file))

    def stop(signum, frame):
        STOP.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for server, _ in servers:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    for server, port_file in reversed(servers):  # the proxy's port last: once it is there, both listen
        write_atomically(port_file, str(server.server_address[1]))
    while not STOP.wait(0.5):
        pass
    for server, _ in servers:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
