"""Start and stop a real indexd on a loopback port for integration tests.

With INDEXD_REMOTE_SHARDS=N in the environment, every Daemon serves its
index from N remote shards: N `xapian-tcpsrv --writable` on free loopback
ports (their databases in the Daemon's temporary folder), handed to indexd
with --remote-shards and stopped at cleanup."""
import atexit
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

TCPSRV = os.environ.get("XAPIAN_TCPSRV", "xapian-tcpsrv")


def remote_shards():
    """How many remote shards the environment asks for (0: local shards)."""
    try:
        return max(0, int(os.environ.get("INDEXD_REMOTE_SHARDS", "0") or "0"))
    except ValueError:
        return 0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ShardServer:
    """One `xapian-tcpsrv --writable` on a loopback port, in a process group
    of its own: it forks a process per connection, and stopping it stops
    them all (as a machine that goes away would)."""
    _all = set()

    def __init__(self, db_dir, port=None, extra=(), env=None):
        self.db_dir = db_dir
        self.port = port or free_port()
        self.extra = list(extra)
        self.env = env
        self.proc = None

    @property
    def address(self):
        return f"tcp:127.0.0.1:{self.port}"

    def start(self, timeout=10):
        self.proc = subprocess.Popen(
            [TCPSRV, "--writable", "--interface", "127.0.0.1", "--port", str(self.port), *self.extra, self.db_dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
            env=self.env)
        ShardServer._all.add(self)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"xapian-tcpsrv on port {self.port} exited: {self.proc.stderr.read()!r}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"xapian-tcpsrv on port {self.port} did not listen")

    def stop(self, sig=signal.SIGKILL):
        """Stop it and every connection's process (SIGKILL: at once, as a
        machine that fails)."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None
        # the forked connections of the group may outlive the parent a moment
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    time.sleep(0.05)
            except OSError:
                break
        ShardServer._all.discard(self)

    def restart(self):
        """Again on the same port and database."""
        self.stop()
        return self.start()


@atexit.register
def _stop_shard_servers():
    for srv in list(ShardServer._all):
        srv.stop()


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
        self.shard_servers = []
        self.shard_tmp = None
        self.n_remote = remote_shards()

    def start_shard_servers(self, n):
        """n xapian-tcpsrv for this daemon's index (once: a restart of the
        daemon finds the same shards)."""
        if self.shard_servers:
            return
        root = self.tmp.name if self.tmp else None
        if root is None:
            self.shard_tmp = tempfile.TemporaryDirectory(prefix="indexd-shards-")
            root = self.shard_tmp.name
        for k in range(n):
            db = os.path.join(root, "remote", f"shard-{k}")
            os.makedirs(db, exist_ok=True)
            self.shard_servers.append(ShardServer(db).start())

    def stop_shard_servers(self):
        for srv in self.shard_servers:
            srv.stop()
        self.shard_servers = []
        if self.shard_tmp:
            self.shard_tmp.cleanup()
            self.shard_tmp = None

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
        remote = []
        if self.n_remote:
            self.start_shard_servers(self.n_remote)
            remote = ["--remote-shards", ",".join(s.address for s in self.shard_servers)]
        self.proc = subprocess.Popen(
            [self.exe, "--data-dir", self.data_dir, "--port", "0",
             "--listen", "127.0.0.1", "--threads", "4", *remote, *self.extra],
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
        self.stop_shard_servers()
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
