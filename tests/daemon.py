"""Start and stop a real indexd on a loopback port for integration tests."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request


class Daemon:
    def __init__(self, exe, data_dir=None, extra=()):
        self.exe = exe
        self.tmp = None
        if data_dir is None:
            self.tmp = tempfile.TemporaryDirectory(prefix="indexd-test-")
            data_dir = os.path.join(self.tmp.name, "index")
        self.data_dir = data_dir
        self.extra = list(extra)
        self.proc = None
        self.base = None

    def start(self):
        self.proc = subprocess.Popen(
            [self.exe, "--data-dir", self.data_dir, "--port", "0",
             "--listen", "127.0.0.1", "--threads", "4", *self.extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"at (http://\S+?)/?$", line.strip())
        if not m:
            err = self.proc.stderr.read()
            raise RuntimeError(f"indexd did not start: {line!r} {err!r}")
        self.base = m.group(1)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=timeout)
        rc = self.proc.returncode if self.proc else 0
        if self.proc:
            self.proc.stdout.close()
            self.stderr = self.proc.stderr.read()
            self.proc.stderr.close()
        self.proc = None
        return rc

    def cleanup(self):
        self.stop()
        if self.tmp:
            self.tmp.cleanup()

    def request(self, method, path, body=None, ctype=None, raw=False):
        """Returns (status, parsed JSON or raw bytes, headers)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if ctype:
            req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                payload = r.read()
                status, headers = r.status, r.headers
        except urllib.error.HTTPError as e:
            payload = e.read()
            status, headers = e.code, e.headers
        if raw:
            return status, payload, headers
        return status, json.loads(payload.decode("utf-8")), headers

    def search(self, **params):
        items = []
        for k, v in params.items():
            for x in (v if isinstance(v, list) else [v]):
                items.append((k, x))
        return self.request("GET", "/api/v1/search?" + urllib.parse.urlencode(items))


def code_path(code):
    return "/api/v1/records/" + urllib.parse.quote(code, safe="")
