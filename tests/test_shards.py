"""Shards on other machines: indexd over three `xapian-tcpsrv --writable`
on loopback ports.  One of them dies in the middle: searches answer within
the timeout with the other shards' records and say which shard is missing,
a record on the dead shard is 503 naming it, writes to the live shards go
on, /healthz says it, other requests are served meanwhile; the shard comes
back on the same port and full answers return.  Also: another list of
shards is refused at start-up, the same shards at new addresses are
accepted."""
import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, code_path, free_port  # noqa: E402

EXE = os.environ.get("INDEXD", "build/indexd/indexd")
N = 3
TIMEOUT_MS = 2000


def shard_of(code, n=N):
    """indexd's placement: FNV-1a (32 bits) of the 档号's bytes."""
    h = 2166136261
    for b in code.encode("utf-8"):
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h % n


def code(i):
    return f"Z050-WS·2019-Y-{i + 1:04d}"


def record(i):
    return {"code": code(i), "title": f"分片测试档案{i}号：产业扶贫项目", "date": "20190301",
            "page_texts": [{"n": 1, "text": f"第{i}号扶贫项目验收材料。"}]}


class ShardsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        d = cls.d = Daemon(EXE, extra=["--remote-timeout-ms", str(TIMEOUT_MS)])
        d.n_remote = N
        d.start()
        lines = "\n".join(json.dumps(record(i), ensure_ascii=False) for i in range(200)) + "\n"
        st, body, _ = d.request("POST", "/api/v1/records", lines, "application/x-ndjson")
        assert st == 200 and body["imported"] == 200, body
        cls.on = [[code(i) for i in range(200) if shard_of(code(i)) == k] for k in range(N)]
        cls.total = 200
        assert all(cls.on), cls.on

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def search_all(self):
        """扶贫 over every record, the hits of every page in "codes"."""
        codes, body = [], None
        for offset in range(0, 1000, 100):
            st, page, _ = self.d.request("GET", f"/api/v1/search?q=%E6%89%B6%E8%B4%AB&limit=100&offset={offset}")
            self.assertEqual(st, 200, page)
            body = body or page
            codes += [h["code"] for h in page["hits"]]
            if offset + 100 >= page["total"]:
                break
        body["codes"] = sorted(codes)
        return body

    def health(self):
        st, body, _ = self.d.request("GET", "/healthz")
        self.assertEqual(st, 200, body)
        return body

    def test_a_full(self):
        body = self.search_all()
        self.assertEqual(body["total"], 200)
        self.assertNotIn("degraded", body)
        h = self.health()
        self.assertEqual(h["status"], "ok")
        self.assertEqual([s["state"] for s in h["shards"]], ["up"] * N)
        self.assertEqual([s["shard"] for s in h["shards"]], [s.address for s in self.d.shard_servers])
        # each shard's database holds the records the hash placed there
        for k in range(N):
            st, body, _ = self.d.request("GET", code_path(self.on[k][0]))
            self.assertEqual(st, 200, body)

    def test_b_shard_dies_and_returns(self):
        d, dead = self.d, 1
        srv = d.shard_servers[dead]
        live_codes = sorted(self.on[0] + self.on[2])
        # requests run all along, on other threads: none may fail or hang
        stop, errors, served = threading.Event(), [], [0]

        def hammer():
            while not stop.is_set():
                try:
                    st, body, _ = d.request("GET", "/api/v1/me")
                    if st != 200:
                        errors.append((st, body))
                    st, body, _ = d.request("GET", code_path(self.on[0][0]))
                    if st != 200:
                        errors.append((st, body))
                    served[0] += 1
                except Exception as e:  # noqa: BLE001
                    errors.append(repr(e))
        threads = [threading.Thread(target=hammer) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            srv.stop()  # the machine goes away: the server and its connections
            t0 = time.monotonic()
            body = self.search_all()
            took = time.monotonic() - t0
            self.assertLess(took, 2 * TIMEOUT_MS / 1000 + 1.5, "the search waited too long")
            self.assertTrue(body.get("degraded"), body)
            self.assertEqual(body["missing_shards"], [srv.address])
            self.assertIn(srv.address, body["notice"])
            self.assertEqual(body["total"], len(live_codes))
            self.assertEqual(body["codes"], live_codes)
            # a second search knows at once
            t0 = time.monotonic()
            body = self.search_all()
            self.assertLess(time.monotonic() - t0, TIMEOUT_MS / 1000)
            self.assertEqual(body["missing_shards"], [srv.address])
            # a record on the dead shard: 503 naming it; on a live one: there
            st, body, _ = d.request("GET", code_path(self.on[dead][0]))
            self.assertEqual(st, 503, body)
            self.assertEqual(body["error"]["status"], "unavailable")
            self.assertIn(srv.address, body["error"]["message"])
            st, body, _ = d.request("GET", code_path(self.on[2][0]))
            self.assertEqual(st, 200, body)
            # writes: a batch whose rows go to every shard; the dead one's rows
            # are refused one by one, the others written
            new = [{"code": f"Z051-WS·2019-Y-{i + 1:04d}", "title": f"故障期间写入的扶贫档案{i}", "date": "20190302"}
                   for i in range(12)]
            st, body, _ = d.request("POST", "/api/v1/records",
                                    "\n".join(json.dumps(r, ensure_ascii=False) for r in new) + "\n",
                                    "application/x-ndjson")
            self.assertEqual(st, 200, body)
            to_dead = [r["code"] for r in new if shard_of(r["code"]) == dead]
            self.assertTrue(to_dead and len(to_dead) < len(new))
            self.assertEqual(body["imported"], len(new) - len(to_dead), body)
            type(self).total += len(new) - len(to_dead)
            self.assertEqual(len(body["rejected"]), len(to_dead))
            for rej in body["rejected"]:
                self.assertIn(srv.address, rej["reason"])
            live_new = next(r for r in new if shard_of(r["code"]) != dead)
            st, body, _ = d.request("GET", code_path(live_new["code"]))
            self.assertEqual(st, 200, body)
            # a single write routed to the dead shard
            rec = {"code": self.on[dead][1], "title": "改写", "date": "20190301"}
            st, body, _ = d.request("PUT", code_path(rec["code"]), json.dumps(rec, ensure_ascii=False),
                                    "application/json")
            self.assertEqual(st, 503, body)
            self.assertIn(srv.address, body["error"]["message"])
            # reports need every record
            st, body, _ = d.request("GET", "/api/v1/reports/coverage")
            self.assertEqual(st, 503, body)
            self.assertIn(srv.address, body["error"]["message"])
            h = self.health()
            self.assertEqual(h["status"], "degraded")
            states = {s["shard"]: s for s in h["shards"]}
            self.assertEqual(states[srv.address]["state"], "down")
            self.assertIn("since", states[srv.address])
            self.assertEqual(sum(s["state"] == "up" for s in h["shards"]), N - 1)

            # the machine comes back on the same port
            srv.start()
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                body = self.search_all()
                if "degraded" not in body:
                    break
                time.sleep(0.5)
            self.assertNotIn("degraded", body)
            self.assertEqual(body["total"], self.total)
            self.assertEqual(self.health()["status"], "ok")
            st, body, _ = d.request("GET", code_path(self.on[dead][0]))
            self.assertEqual(st, 200, body)
            st, body, _ = d.request("PUT", code_path(rec["code"]), json.dumps(rec, ensure_ascii=False),
                                    "application/json")
            self.assertIn(st, (200, 201), body)
            st, body, _ = d.request("GET", "/api/v1/reports/coverage")
            self.assertEqual(st, 200, body)
        finally:
            stop.set()
            for t in threads:
                t.join(60)
            if srv.proc is None:
                srv.start()
        self.assertEqual(errors, [])
        self.assertGreater(served[0], 0)

    def test_c_start_up_checks(self):
        d = self.d
        servers = d.shard_servers
        d.stop()
        addrs = [s.address for s in servers]

        def refused(shards, why):
            other = Daemon(EXE, data_dir=d.data_dir, extra=["--remote-shards", ",".join(shards)])
            other.n_remote, other.token = 0, d.token
            with self.assertRaises(RuntimeError) as e:
                other.start()
            other.stop()
            self.assertIn(why, str(e.exception))
        refused(list(reversed(addrs)), "路由")       # another order: the routing would change
        refused(addrs[:2], "分片数")                  # fewer shards
        # a shard's server moved to another port: the same database, accepted
        srv = servers[2]
        srv.stop()
        moved_from = srv.address
        srv.port = free_port()
        srv.start()
        d.start()  # the harness hands the new list
        with open(os.path.join(d.data_dir, "remote_shards"), encoding="utf-8") as f:
            recorded = f.read()
        self.assertIn(srv.address, recorded)
        self.assertNotIn(moved_from, recorded)
        self.assertEqual(self.search_all()["total"], self.total)
        # while it is down, a new address cannot be checked: refused
        d.stop()
        srv.stop()
        refused(addrs[:2] + [f"tcp:127.0.0.1:{free_port()}"], "无法确认")
        # at its recorded address but down: the daemon starts without it
        d.start()
        body = self.search_all()
        self.assertEqual(body["missing_shards"], [srv.address])
        srv.start()

    def test_d_hung_shard(self):
        """A machine that stops answering (its processes stopped, connections
        open): the search waits at most the timeout, twice (the call, then the
        connection that finds which shard it was), never more."""
        import signal
        d = self.d
        srv = d.shard_servers[0]
        body = self.search_all()  # every reader connected
        deadline = time.monotonic() + 15
        while "degraded" in body and time.monotonic() < deadline:
            time.sleep(0.5)
            body = self.search_all()
        self.assertNotIn("degraded", body)
        os.killpg(srv.proc.pid, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            st, body, _ = d.request("GET", "/api/v1/search?q=%E6%89%B6%E8%B4%AB")
            took = time.monotonic() - t0
            self.assertEqual(st, 200, body)
            self.assertEqual(body["missing_shards"], [srv.address])
            self.assertLess(took, 2 * TIMEOUT_MS / 1000 + 1.5)
            t0 = time.monotonic()
            st, body, _ = d.request("GET", "/healthz")
            self.assertLess(time.monotonic() - t0, TIMEOUT_MS / 1000 + 1.5)
            self.assertEqual(body["status"], "degraded")
        finally:
            os.killpg(srv.proc.pid, signal.SIGCONT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            body = self.search_all()
            if "degraded" not in body:
                break
            time.sleep(0.5)
        self.assertNotIn("degraded", body)
        self.assertEqual(body["total"], self.total)


if __name__ == "__main__":
    unittest.main()
