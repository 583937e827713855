"""A read replica made with Xapian's own replication: a master indexd on
local shards keeping changesets (--changesets), xapian-replicate-server on
its data folder, xapian-replicate copying each shard into a replica folder,
and a second indexd serving that folder --read-only: the same searches give
the same answers; every write is refused (503, 只读副本); more writes on
the master, replicated again (by changesets), are seen by the replica."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, code_path, free_port  # noqa: E402

EXE = os.environ.get("INDEXD", "build/indexd/indexd")
QUERIES = [dict(q="扶贫"), dict(q='"易地扶贫搬迁"'), dict(q="扶贫", year="2018"), dict(q="扶贫", sort="-date"),
           dict(q="扶贫", offset="20", limit="10"), dict(q="题名:验收"), dict(retention="30年")]


def record(i):
    year = 2017 + i % 3
    what = ["易地扶贫搬迁项目验收", "产业扶贫项目台账", "贫困户脱贫审核"][i % 3]
    return {"code": f"Z070-WS·{year}-{'Y' if i % 2 else 'D30'}-{i + 1:04d}", "title": f"{what}（第{i}号）",
            "date": f"{year}0{1 + i % 9}15", "page_texts": [{"n": 1, "text": f"{what}材料，第{i}号。"}]}


def ndjson(recs):
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n"


class ReplicaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="indexd-replica-")
        m = cls.master = Daemon(EXE, extra=["--changesets", "50", "--shards", "2"])
        m.n_remote = 0  # replication of local shards, whatever the environment asks
        m.start()
        st, body, _ = m.request("POST", "/api/v1/records", ndjson([record(i) for i in range(120)]), "application/x-ndjson")
        assert st == 200 and body["imported"] == 120, body
        cls.port = free_port()
        cls.server = subprocess.Popen(
            ["xapian-replicate-server", "-I", "127.0.0.1", "-p", str(cls.port), m.data_dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        cls.replica_dir = os.path.join(cls.tmp.name, "replica")
        os.makedirs(cls.replica_dir)
        cls.replicate()
        # what a read-only indexd needs besides the shards: the shard count,
        # the index format, the users (its sessions and register are its own)
        for f in ("shards", "format", "users.json"):
            shutil.copy2(os.path.join(m.data_dir, f), os.path.join(cls.replica_dir, f))
        r = cls.replica = Daemon(EXE, data_dir=cls.replica_dir, extra=["--read-only"])
        r.n_remote, r.token = 0, m.token
        r.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.replica.cleanup()
            cls.master.cleanup()
        finally:
            os.killpg(cls.server.pid, signal.SIGKILL)
            cls.server.wait()
            cls.tmp.cleanup()

    @classmethod
    def replicate(cls):
        """One pass of xapian-replicate per shard; what it did (copies,
        changesets)."""
        out = []
        for k in range(2):
            r = subprocess.run(["xapian-replicate", "-h", "127.0.0.1", "-p", str(cls.port), "-m", f"shard-{k}",
                                "-o", "-v", "-r", "1", os.path.join(cls.replica_dir, f"shard-{k}")],
                               capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, r.stderr
            out.append(r.stdout)
        return out

    def answers(self, d):
        got = []
        for params in QUERIES:
            st, body, _ = d.request("GET", "/api/v1/search?" + urllib.parse.urlencode(params))
            self.assertEqual(st, 200, body)
            got.append((params, body["total"], [h["code"] for h in body["hits"]]))
        return got

    def test_a_same_answers(self):
        self.assertEqual(self.answers(self.replica), self.answers(self.master))
        self.assertEqual(self.answers(self.master)[0][1], 80)  # 扶贫: two thirds of 120
        st, body, _ = self.replica.request("GET", code_path(record(7)["code"]))
        self.assertEqual(st, 200, body)
        st, body, _ = self.replica.request("GET", "/healthz")
        self.assertTrue(body["read_only"])

    def test_b_writes_refused(self):
        r = self.replica
        st, body, _ = r.request("POST", "/api/v1/records", ndjson([record(500)]), "application/x-ndjson")
        self.assertEqual(st, 503, body)
        self.assertIn("只读副本", body["error"]["message"])
        rec = dict(record(1))
        del rec["page_texts"]
        st, body, _ = r.request("PUT", code_path(rec["code"]), json.dumps(rec, ensure_ascii=False), "application/json")
        self.assertEqual(st, 503, body)
        self.assertIn("只读副本", body["error"]["message"])
        st, body, _ = r.request("POST", "/api/v1/catalog", "档号,题名\n", "text/csv")
        self.assertEqual(st, 503, body)
        # a person still logs in to read
        st, body, _ = r.request("POST", "/api/v1/login", json.dumps({"user": "harness", "password": "harness-password-1"}),
                                "application/json", token=None)
        self.assertEqual(st, 200, body)

    def test_c_follows_master(self):
        m = self.master
        st, body, _ = m.request("POST", "/api/v1/records", ndjson([record(i) for i in range(120, 150)]),
                                "application/x-ndjson")
        self.assertEqual((st, body["imported"]), (200, 30), body)
        rec = dict(record(3), title="易地扶贫搬迁项目验收（改）")
        del rec["page_texts"]
        st, body, _ = m.request("PUT", code_path(rec["code"]), json.dumps(rec, ensure_ascii=False), "application/json")
        self.assertIn(st, (200, 201), body)
        out = self.replicate()
        self.assertTrue(all("changeset" in o for o in out), out)
        want = self.answers(m)
        deadline = time.time() + 10
        while time.time() < deadline and self.answers(self.replica) != want:
            time.sleep(0.3)
        self.assertEqual(self.answers(self.replica), want)
        st, body, _ = self.replica.request("GET", code_path(rec["code"]))
        self.assertEqual(body["title"], "易地扶贫搬迁项目验收（改）")


if __name__ == "__main__":
    unittest.main()
