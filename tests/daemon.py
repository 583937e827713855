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
        self.token = None

    def users(self, *args, password=None):
        """Run `indexd users ARGS` on this data dir; returns its stdout."""
        r = subprocess.run([self.exe, "users", *args, "--data-dir", self.data_dir],
                           input=(password + "\n") if password is not None else "",
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"indexd users {args}: {r.stderr}")
        return r.stdout

    def add_user(self, name, role, password, *flags):
        self.users("add", name, "--role", role, *flags, password=password)

    def make_token(self, name, purpose="测试"):
        return self.users("token", name, "--purpose", purpose).strip().splitlines()[-1]

    def start(self):
        # The harness acts as an admin with an API token (also handed to the
        # command-line tools the tests run, through INDEXD_TOKEN).
        if self.token is None:
            if not os.path.exists(os.path.join(self.data_dir, "users.json")) or \
                    "harness" not in self.users("list"):
                self.add_user("harness", "admin", "harness-password-1")
            self.token = self.make_token("harness")
        os.environ["INDEXD_TOKEN"] = self.token
        self.proc = subprocess.Popen(
            [self.exe, "--data-dir", self.data_dir, "--port", "0",
             "--listen", "127.0.0.1", "--threads", "4", *self.extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"(http://[^\s，]+?)/?$", line.strip())
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
        """Stop (it must exit 0: under the sanitizers a leak or a bug found
        at exit makes it fail) and remove the temporary data."""
        running = self.proc is not None
        rc = self.stop()
        if self.tmp:
            self.tmp.cleanup()
        if running and rc != 0:
            raise RuntimeError(f"indexd exited with {rc} at shutdown: {self.stderr[-3000:]}")

    def request(self, method, path, body=None, ctype=None, raw=False, token=True, headers=None):
        """Returns (status, parsed JSON or raw bytes, headers).  token: True
        for the harness's admin token, a string for another, None for none."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if ctype:
            req.add_header("Content-Type", ctype)
        tok = self.token if token is True else token
        if tok:
            req.add_header("Authorization", "Bearer " + tok)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
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


def run_ingest(ingest, base, folder, *extra, report=None, timeout=900):
    """Run ingest on a delivery folder against the daemon at base: the finished
    process, and the report it wrote as JSON (with report=PATH; else None)."""
    args = [ingest, "--server", base, "--quiet", *extra]
    if report:
        args += ["--report", report]
    proc = subprocess.run(args + [folder], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if not report:
        return proc, None
    with open(report, encoding="utf-8") as f:
        return proc, json.load(f)
