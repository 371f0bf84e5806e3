#!/usr/bin/env python3
"""Loads an HTML file in a real headless Chromium and prints what a JS expression finds in the rendered page
(Python 3 standard library only; needs Debian's `chromium` package).

    python3 chromium_check.py --html FILE --js JS_FILE [--screenshot OUT.png] [--width 1200] [--height 900]
        [--timeout 60]

It starts `chromium --headless=new` with a fresh temporary profile and speaks the Chrome DevTools Protocol over
--remote-debugging-pipe (Chromium reads commands on fd 3 and writes answers and events on fd 4, each one JSON
text ended by a NUL byte). In a --width x --height viewport it loads file://FILE, waits for the load event,
evaluates the text of JS_FILE as one expression (write statements as `(() => { ... })()`; a promise is
awaited) and prints one JSON line:

    {"value": RESULT, "console_errors": [...], "requests": [...], "exception": null}

RESULT is the expression's value, returned by value (JSON-serialisable; `undefined` is null). console_errors
holds console.error/assert messages, uncaught exceptions and the browser's error log ("Failed to load resource:
..."). requests lists each URL the page asked for whose scheme is not file:, data:, about: or blob:; a
self-contained report has none. Such requests are blocked, never sent. exception is the text of what the
expression threw, or null. --screenshot then writes a PNG of the whole page (its full content size).

Exit status: 0 when the expression returned, 1 when it threw (the JSON line is still printed), 2 when --timeout
seconds (one deadline for the whole run) passed, 3 on any other failure (no such file, Chromium did not start
or died, the page did not load); 2 and 3 print one line on stderr. Chromium's process group is killed and the
profile deleted at exit, whatever happened; Chromium also gets SIGKILL if this script dies. Its own stderr
(dbus errors, "[: ...: unexpected operator" from Debian's launcher) is noise and only its tail is shown on 3.
"""

import argparse
import base64
import ctypes
import fcntl
import json
import os
import pathlib
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")
BLOCKED = ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]


class Timeout(Exception):
    """The --timeout deadline passed."""


class Failure(Exception):
    """Anything else went wrong: Chromium did not start or died, a command failed, the page did not load."""


def describe(details):
    """The text of a CDP exceptionDetails: the exception's message and stack, else the summary."""
    return details.get("exception", {}).get("description") or details.get("text", "exception")


class Browser:
    """A Chromium process and a CDP connection to it over two pipes; every wait ends at `deadline`."""

    def __init__(self, deadline, profile):
        self.deadline, self.next_id, self.buf, self.events = deadline, 0, b"", []
        cmd_r, self.cmd_w = os.pipe()  # we write commands, Chromium reads them as fd 3
        self.resp_r, resp_w = os.pipe()  # Chromium writes as fd 4, we read
        libc = ctypes.CDLL(None)

        def child_fds():  # move the two ends to fds 3 and 4 (via high fds, as 3/4 may be taken by either end)
            hi_r, hi_w = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10), fcntl.fcntl(resp_w, fcntl.F_DUPFD, 10)
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: dies with this script, even on its SIGKILL

        args = ["chromium", "--headless=new", "--disable-gpu", "--remote-debugging-pipe",
                "--user-data-dir=" + os.path.join(profile, "profile"), "--no-first-run",
                "--no-default-browser-check", "--disable-dev-shm-usage", "--hide-scrollbars",
                "--disable-background-networking", "--disable-component-update", "--disable-extensions",
                "--mute-audio"]
        if os.geteuid() == 0:
            args.append("--no-sandbox")
        self.stderr_path = os.path.join(profile, "chromium.stderr")
        with open(self.stderr_path, "wb") as err:
            # pass_fds keeps 3 and 4 open across exec (after child_fds filled them); every other fd is closed.
            self.proc = subprocess.Popen(args + ["about:blank"], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err, pass_fds=(3, 4),
                                         preexec_fn=child_fds, start_new_session=True)
        os.close(cmd_r)
        os.close(resp_w)

    def stderr_tail(self):  # its last lines, without the dbus and launcher noise
        with open(self.stderr_path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return " | ".join([x for x in lines if "/dbus/" not in x and "unexpected operator" not in x][-5:])

    def remaining(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Timeout()
        return left

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            if not select.select([], [self.cmd_w], [], self.remaining())[1]:
                raise Timeout()
            data = data[os.write(self.cmd_w, data[:65536]):]
        return self.next_id

    def read_message(self):
        while b"\0" not in self.buf:
            if not select.select([self.resp_r], [], [], self.remaining())[0]:
                raise Timeout()
            chunk = os.read(self.resp_r, 1 << 20)
            if not chunk:
                raise Failure("Chromium closed the DevTools pipe (exit %s): %s"
                              % (self.proc.poll(), self.stderr_tail()))
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None):
        """Sends a command and returns its result; events read meanwhile are kept in self.events."""
        want = self.send(method, params, session)
        while True:
            msg = self.read_message()
            if msg.get("id") == want:
                if "error" in msg:
                    raise Failure("%s failed: %s" % (method, msg["error"].get("message")))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method):
        while True:
            for e in self.events:
                if e["method"] == method:
                    return e
            self.events.append(self.read_message())

    def close(self):
        # No polite Browser.close: it costs ~0.3 s and nothing in the throw-away profile needs saving.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the browser leads its own group: renderers, zygote
        except ProcessLookupError:
            pass
        self.proc.wait()
        for fd in (self.cmd_w, self.resp_r):
            os.close(fd)


def collect(events):
    """(console_errors, requests) from the CDP events, in order."""
    errors, requests = [], []
    for e in events:
        p = e.get("params", {})
        if e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description", a.get("type"))))
                                   for a in p.get("args", [])))
        elif e["method"] == "Runtime.exceptionThrown":
            errors.append(describe(p.get("exceptionDetails", {})))
        elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            entry = p["entry"]
            errors.append(entry.get("text", "") + (" " + entry["url"] if entry.get("url") else ""))
        elif e["method"] == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            if not url.startswith(LOCAL_SCHEMES) and url not in requests:
                requests.append(url)
    return errors, requests


def run(args, browser):
    page = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    s = browser.call("Target.attachToTarget", {"targetId": page, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.call(domain + ".enable", session=s)
    browser.call("Network.setBlockedURLs", {"urls": BLOCKED}, session=s)
    browser.call("Emulation.setDeviceMetricsOverride", {"width": args.width, "height": args.height,
                                                        "deviceScaleFactor": 1, "mobile": False}, session=s)
    browser.events.clear()  # forget about:blank's load
    url = pathlib.Path(os.path.abspath(args.html)).as_uri()  # quotes spaces, '#', '%'
    nav = browser.call("Page.navigate", {"url": url}, session=s)
    if nav.get("errorText"):
        raise Failure("cannot load %s: %s" % (url, nav["errorText"]))
    browser.wait_event("Page.loadEventFired")
    with open(args.js, encoding="utf-8") as f:
        expression = f.read()
    res = browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                            "awaitPromise": True}, session=s)
    exception = describe(res["exceptionDetails"]) if "exceptionDetails" in res else None
    if args.screenshot:
        metrics = browser.call("Page.getLayoutMetrics", session=s)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        clip = {"x": 0, "y": 0, "scale": 1, "width": max(1, min(size["width"], 16384)),
                "height": max(1, min(size["height"], 16384))}  # Chromium's texture limit is 16384 px
        shot = browser.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                       "clip": clip}, session=s)
        with open(args.screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
    errors, requests = collect(browser.events)
    value = None if exception else res.get("result", {}).get("value")
    print(json.dumps({"value": value, "console_errors": errors, "requests": requests, "exception": exception}),
          flush=True)
    return 1 if exception else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--html", required=True)
    ap.add_argument("--js", required=True, help="file holding one JS expression")
    ap.add_argument("--screenshot")
    ap.add_argument("--width", type=int, default=1200)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    for path in (args.html, args.js):
        if not os.path.isfile(path):
            print("chromium_check: no such file: %s" % path, file=sys.stderr)
            return 3
    deadline = time.monotonic() + args.timeout
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))  # so `finally` still kills Chromium
    profile = tempfile.mkdtemp(prefix="chromium_check.")
    browser = None
    try:
        browser = Browser(deadline, profile)
        return run(args, browser)
    except Timeout:
        print("chromium_check: timed out after %gs" % args.timeout, file=sys.stderr)
        return 2
    except (Failure, OSError, KeyError, ValueError) as e:
        print("chromium_check: %s" % e, file=sys.stderr)
        return 3
    finally:
        if browser:
            browser.close()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
