#!/usr/bin/env python3
"""Load on the daemon with wrk: many connections at once mixing what the web
client and the command-line tools do (searches without words, filter-only
and NOT-only searches, words, quoted phrases, record reads), as an
archivist without clearance, against a synthetic archive.  Prints wrk's
figures, the answers that were not 200, and the daemon's memory; exits
non-zero when an answer was not 200, a socket failed or the daemon died.
Timings are printed, never judged.

    python3 bench/load.py --indexd build-rel/indexd/indexd --records 20000 --connections 64 --seconds 30

Needs wrk (Debian package wrk)."""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))

LUA = r"""
local paths = {%s}
local i = 0
wrk.headers["Authorization"] = "Bearer %s"
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


def q(params):
    return "/api/v1/search?" + urllib.parse.urlencode(params)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--indexd", default="build-rel/indexd/indexd")
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--workdir", default=None)
    a = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("load.py: wrk is not installed (apt-get install wrk)")
    work = a.workdir or tempfile.mkdtemp(prefix="indexd-load-")
    data = os.path.join(work, "index")
    os.makedirs(data, exist_ok=True)

    def users(*args, pw=None):
        r = subprocess.run([a.indexd, "users", *args, "--data-dir", data], input=(pw + "\n") if pw else "",
                           capture_output=True, text=True, check=True)
        return r.stdout.strip()
    users("add", "loader", "--role", "admin", pw="loader-password-1")
    users("add", "li", "--role", "archivist", pw="li-password-12")
    admin = users("token", "loader", "--purpose", "压力测试").splitlines()[-1]
    li = users("token", "li", "--purpose", "压力测试").splitlines()[-1]
    log = open(os.path.join(work, "indexd.log"), "w")
    p = subprocess.Popen([a.indexd, "--data-dir", data, "--port", "0", "--listen", "127.0.0.1", "--threads", "4",
                          "--log-level", "warn"], stdout=subprocess.PIPE, stderr=log, text=True)
    base = re.search(r"(http://[^\s，]+?)/?$", p.stdout.readline().strip()).group(1)

    def call(method, path, body=None, token=admin, ctype="application/x-ndjson"):
        req = urllib.request.Request(base + path, data=body, method=method,
                                     headers={"Authorization": "Bearer " + token, "Content-Type": ctype})
        with urllib.request.urlopen(req, timeout=600) as r:
            return json.loads(r.read())

    try:
        t0 = time.time()
        corpus = subprocess.run([sys.executable, os.path.join(HERE, "gen_corpus.py"), "--records", str(a.records),
                                 "--out", "-"], capture_output=True, check=True).stdout.splitlines()
        open_codes = []
        for k in range(0, len(corpus), 2000):
            part = corpus[k:k + 2000]
            ans = call("POST", "/api/v1/records?commit=0", b"\n".join(part) + b"\n")
            assert ans["rejected_count"] == 0, ans["rejected"][:3]
            for line in part:
                r = json.loads(line)
                if r.get("classification", "公开") in ("", "公开") and r["code"].split("-")[1][:2] != "FH":
                    open_codes.append(r["code"])
        call("POST", "/api/v1/commit", b"")
        print(f"loaded {len(corpus)} records in {time.time() - t0:.1f} s")
        rng = random.Random(7)
        paths = [q({"q": ""}), q({"q": "", "facets": 0, "limit": 1}), q({"fonds": "Z031"}),
                 q({"year": "2017", "category": "WS"}), q({"q": "-扶贫"}), q({"q": "扶贫"}),
                 q({"q": "\"精准扶贫\""}), q({"q": "脱贫攻坚 产业"}), q({"q": "易地扶贫搬迁", "sort": "-date"}),
                 q({"q": "题名:通知 年度:2016..2019"})]
        paths = paths * 4  # as many searches as record reads
        paths += ["/api/v1/records/" + urllib.parse.quote(c, safe="") for c in rng.sample(open_codes, 40)]
        rng.shuffle(paths)
        lua = os.path.join(work, "mix.lua")
        open(lua, "w").write(LUA % (", ".join('"%s"' % x for x in paths), li))
        for x in paths:  # every request of the mix answers 200 when alone
            req = urllib.request.Request(base + x, headers={"Authorization": "Bearer " + li})
            with urllib.request.urlopen(req, timeout=60) as r:
                assert r.status == 200, x
        rss0 = int(open(f"/proc/{p.pid}/status").read().split("VmRSS:")[1].split()[0])
        out = subprocess.run(["wrk", "-t", str(a.threads), "-c", str(a.connections), "-d", f"{a.seconds}s",
                              "--timeout", "20s", "--latency", "-s", lua, base], capture_output=True, text=True).stdout
        print(out)
        rss1 = int(open(f"/proc/{p.pid}/status").read().split("VmRSS:")[1].split()[0])
        alive = p.poll() is None and call("GET", "/healthz")["status"] == "ok"
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        sockerr = re.search(r"Socket errors: (.*)", out)
        print(f"mix: {len(paths)} requests ({len(paths) - 40} searches of 10 kinds, 40 record reads); "
              f"non-200 answers: {non2xx.group(1) if non2xx else 0}; socket errors: {sockerr.group(1) if sockerr else 'none'}; "
              f"daemon RSS {rss0 // 1024} -> {rss1 // 1024} MiB; alive after: {alive}")
        ok = alive and not non2xx and not sockerr
    finally:
        p.terminate()
        p.wait(timeout=60)
        log.close()
    if ok and not a.workdir:
        shutil.rmtree(work)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
