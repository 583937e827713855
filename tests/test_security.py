"""Regression tests of the security review's findings (FINDINGS.md of the
review of 2026-12-02), against the real daemon: each test is named after
its finding and fails on the code the review tested.  Findings whose fix
lives in one module are also tested there (see tests/README.md)."""
import http.client
import json
import os
import re
import socket
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, code_path  # noqa: E402

EXE = os.environ.get("INDEXD", "build/indexd/indexd")

SECRET = "Z031-WS·2018-Y-BGS-0901"   # 机密, with page text
HOUSE = "Z031-FH·2018-Y-0901"        # a household file: its text needs an approval
PLAIN = "Z031-WS·2018-Y-BGS-0903"    # 公开, open to all
INNER = "Z031-WS·2018-Y-BGS-0904"    # 内部
PASSWORDS = {"li": "li-sample-1", "li2": "li2-sample-1", "ping": "ping-sample-1", "ven": "vendor-sample-1"}


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class SecurityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        d = cls.d = Daemon(EXE)
        os.makedirs(d.data_dir, exist_ok=True)
        d.add_user("li", "archivist", PASSWORDS["li"])
        d.add_user("li2", "archivist", PASSWORDS["li2"], "--clearance", "内部")
        d.add_user("ping", "evaluator", PASSWORDS["ping"])
        d.add_user("ven", "vendor", PASSWORDS["ven"])
        cls.tok = {u: d.make_token(u, purpose="安全测试") for u in PASSWORDS}
        d.start()
        lines = [
            {"code": SECRET, "title": "机密测试文件青龙计划标题", "author": "县保密局", "date": "20180101", "pages": 1,
             "classification": "机密", "location": "9号库-机密柜-01盒",
             "page_texts": [{"n": 1, "text": "青龙白虎暗号内容，机密正文朱雀玄武。"}]},
            {"code": HOUSE, "title": "低保户张三家庭档案", "author": "河口乡", "date": "20180202", "pages": 1,
             "classification": "公开", "location": "2号库-01列",
             "page_texts": [{"n": 1, "text": "户主张三，家庭年收入贰仟元，病残情况肝癌晚期，需审批才能阅读的隐私正文。"}]},
            {"code": PLAIN, "title": "关于精准扶贫工作的通知", "author": "县扶贫办", "date": "20180303", "pages": 1,
             "page_texts": [{"n": 1, "text": "精准扶贫工作要求，脱贫攻坚，户主名单另附。"}]},
            {"code": INNER, "title": "内部通报扶贫资金", "author": "县财政局", "date": "20180304", "pages": 1,
             "classification": "内部", "page_texts": [{"n": 1, "text": "扶贫资金内部通报正文。"}]},
        ]
        body = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines)
        st, a, _ = d.request("POST", "/api/v1/records", body, "application/x-ndjson")
        assert st == 200 and a["imported"] == 4, a

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def call(self, who, method, path, body=None, ctype="application/json", raw=False, headers=None):
        tok = self.tok[who] if who in self.tok else (True if who == "admin" else None)
        return self.d.request(method, path, body, ctype if body is not None else None, raw=raw, token=tok, headers=headers)

    def host_port(self):
        host, port = self.d.base.split("//")[1].split(":")
        return host, int(port)

    def raw(self, head, body=b"", wait=True):
        """Send raw bytes; the answer's status (or None when the connection is cut unanswered)."""
        with socket.create_connection(self.host_port(), timeout=15) as s:
            s.sendall(head + body)
            data = b""
            while wait:
                try:
                    part = s.recv(65536)
                except (ConnectionResetError, socket.timeout):
                    break
                if not part:
                    break
                data += part
                if b"\r\n\r\n" in data:
                    break
        m = re.match(rb"HTTP/1.1 (\d+)", data)
        return int(m.group(1)) if m else None

    # ---- critical ---------------------------------------------------------

    def test_c1_error_bodies_carry_no_other_callers_secrets(self):
        # the review's trigger: a page with a NUL byte made the record
        # unreadable, and then a search error carried stack memory that held
        # the admin's fresh session id
        st, err, _ = self.call("admin", "PUT", code_path(PLAIN) + "/pages/2", b"\xe6\x89\xb6\x00\xe8\xb4\xab", "text/plain")
        self.assertEqual((st, err["error"]["status"]), (400, "invalid"))
        sids = []
        for _ in range(4):
            st, me, h = self.d.request("POST", "/api/v1/login", json.dumps({"user": "li", "password": PASSWORDS["li"]}),
                                       "application/json", token=None)
            self.assertEqual(st, 200)
            sids.append(re.search(r"indexd_session=([0-9a-f]+)", h["Set-Cookie"]).group(1))
        answers = []
        for q in ("扶贫", "损坏", "", "\"未闭合", "(((", "a" * 5000):
            st, a, _ = self.call("ping", "GET", "/api/v1/search?" + urllib.parse.urlencode({"q": q, "limit": 100}), raw=True)
            answers.append(a.decode("utf-8", "replace"))
            self.assertIn(st, (200, 400, 413))
            if st != 200:
                msg = json.loads(a)["error"]["message"]
                self.assertTrue(msg.strip())
        for path in ("/api/v1/records/x", "/api/v1/nosuch", code_path(SECRET) + "/pages/9"):
            st, a, _ = self.call("ping", "GET", path, raw=True)
            answers.append(a.decode("utf-8", "replace"))
        joined = "\n".join(answers)
        for sid in sids:
            self.assertNotIn(sid, joined)
        self.assertNotIn("users.json", joined)

    def test_c2_bulk_and_catalog_keep_clearance(self):
        # li (公开) overwrites, lowers or probes a 机密 record through a bulk write
        row = {"code": SECRET, "title": "x", "author": "x", "date": "20180101", "pages": 1, "classification": "公开"}
        st, a, _ = self.call("li", "POST", "/api/v1/records", json.dumps(row) + "\n", "application/x-ndjson")
        self.assertEqual(st, 200, a)
        self.assertEqual((a["imported"], a["replaced"], a["rejected_count"]), (0, 0, 1))
        self.assertNotIn("机密", json.dumps(a, ensure_ascii=False))
        # through a catalog import
        csv = "档号,题名,责任者,日期,页数,密级\n%s,改写,x,20180101,1,公开\n" % SECRET
        st, a, _ = self.call("li", "POST", "/api/v1/catalog", csv.encode("utf-8"), "text/csv")
        self.assertEqual(st, 200, a)
        self.assertEqual((a["imported"], a["replaced"], a["rejected_count"]), (0, 0, 1))
        # the record is as it was, and its text still closed to li
        st, r, _ = self.call("admin", "GET", code_path(SECRET))
        self.assertEqual((r["title"], r["classification"]), ("机密测试文件青龙计划标题", "机密"))
        st, _, _ = self.call("li", "GET", code_path(SECRET) + "/pages/1?purpose=x")
        self.assertEqual(st, 404)
        # a row above the writer's clearance is refused by both routes, as a single PUT is
        top = {"code": "Z031-WS·2018-Y-BGS-0950", "title": "x", "author": "x", "date": "20180101", "classification": "绝密"}
        st, a, _ = self.call("li", "POST", "/api/v1/records", json.dumps(top) + "\n", "application/x-ndjson")
        self.assertEqual((a["imported"], a["rejected_count"]), (0, 1))
        self.assertEqual(a["rejected"][0]["key"], "classification")
        csv = "档号,题名,责任者,日期,页数,密级\nZ031-WS·2018-Y-BGS-0951,x,x,20180101,1,绝密\n"
        st, a, _ = self.call("li", "POST", "/api/v1/catalog", csv.encode("utf-8"), "text/csv")
        self.assertEqual((a["imported"], a["rejected_count"]), (0, 1))
        st, _, _ = self.call("admin", "GET", code_path("Z031-WS·2018-Y-BGS-0951"))
        self.assertEqual(st, 404)
        # the same rows go through for a writer cleared for them
        st, a, _ = self.call("admin", "POST", "/api/v1/records", json.dumps(top) + "\n", "application/x-ndjson")
        self.assertEqual(a["imported"], 1)
        # a catalog without a 密级 column does not declassify what it overwrites
        csv = "档号,题名,责任者,日期,页数\n%s,重新导入的题名,县保密局,20180101,1\n" % SECRET
        st, a, _ = self.call("admin", "POST", "/api/v1/catalog?replace=1", csv.encode("utf-8"), "text/csv")
        self.assertEqual((a["imported"], a["replaced"]), (1, 1))
        st, r, _ = self.call("admin", "GET", code_path(SECRET))
        self.assertEqual((r["title"], r["classification"]), ("重新导入的题名", "机密"))
        st, _, _ = self.call("li", "GET", code_path(SECRET))
        self.assertEqual(st, 404)
        self.call("admin", "POST", "/api/v1/catalog?replace=1",
                  ("档号,题名,责任者,日期,页数\n%s,机密测试文件青龙计划标题,县保密局,20180101,1\n" % SECRET).encode(), "text/csv")
        # a writer may change a record of a 密级 they may see, lowering it included
        low = {"code": INNER, "title": "内部通报扶贫资金", "author": "县财政局", "date": "20180304", "classification": "公开"}
        st, a, _ = self.call("li2", "POST", "/api/v1/records", json.dumps(low, ensure_ascii=False) + "\n", "application/x-ndjson")
        self.assertEqual((a["imported"], a["replaced"]), (1, 1))
        self.call("admin", "PUT", code_path(INNER), json.dumps(dict(low, classification="内部")))

    def test_c3_concurrent_searches_without_words(self):
        # the web client's first screen, a facet click, NOT only: each copied
        # a shared match-all query, whose reference count races
        qs = ["/api/v1/search?q=&facets=0&limit=1", "/api/v1/search?q=", "/api/v1/search?fonds=Z031",
              "/api/v1/search?q=" + urllib.parse.quote("-扶贫"), "/api/v1/search?category=WS&year=2018"]
        bad, done = [], [0]
        stop = time.time() + 6

        def client(i):
            host, port = self.host_port()
            c = http.client.HTTPConnection(host, port, timeout=30)
            n = 0
            while time.time() < stop:
                try:
                    c.request("GET", qs[(i + n) % len(qs)], headers={"Authorization": "Bearer " + self.tok["li"]})
                    r = c.getresponse()
                    r.read()
                    if r.status != 200:
                        bad.append(r.status)
                except (OSError, http.client.HTTPException) as e:
                    bad.append(repr(e))
                    c = http.client.HTTPConnection(host, port, timeout=30)
                n += 1
            done[0] += n
        threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(bad, [])
        self.assertGreater(done[0], 50)
        st, _, _ = self.call(None, "GET", "/healthz")
        self.assertEqual(st, 200)

    # ---- high --------------------------------------------------------------

    def test_h1_bodies_refused_before_they_are_read(self):
        pid = self.d.proc.pid
        before = rss_kb(pid)
        # a GET's body, an unknown caller's write, a write the role may not
        # make: each answered at once, without a byte kept
        self.assertEqual(self.raw(b"GET /api/v1/search HTTP/1.1\r\nHost: x\r\nContent-Length: 314572800\r\n\r\n",
                                  b"x" * 65536), 401)
        self.assertEqual(self.raw(b"POST /api/v1/catalog HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n"), 401)
        self.assertEqual(self.raw(b"POST /api/v1/catalog HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n"
                                  b"Authorization: Bearer " + self.tok["ven"].encode() + b"\r\n\r\n"), 403)
        self.assertEqual(self.raw(b"GET /api/v1/search HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                  b"Authorization: Bearer " + self.tok["li"].encode() + b"\r\n\r\n", b"hello"), 413)
        self.assertEqual(self.raw(b"GET /app.js HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"), 413)
        # each route has its own limit: a login, a page, a record
        self.assertEqual(self.raw(b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"), 413)
        self.assertEqual(self.raw(("PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\nAuthorization: Bearer %s\r\n\r\n"
                                   % (code_path(PLAIN), self.tok["li"])).encode()), 413)
        # bodies that keep coming to a refused request are not held: four
        # callers without credentials sending 300 MB each
        socks = []
        for _ in range(4):
            s = socket.create_connection(self.host_port(), timeout=15)
            s.sendall(b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 314572800\r\n\r\n")
            socks.append(s)
        for s in socks:
            try:
                for _ in range(40):
                    s.sendall(b"x" * 262144)
            except OSError:
                pass  # refused and closed: what we want
        self.assertLess(rss_kb(pid) - before, 100 * 1024)
        for s in socks:
            s.close()
        st, _, _ = self.call(None, "GET", "/healthz")
        self.assertEqual(st, 200)

    def test_h1_one_importer_cannot_hold_every_body(self):
        # a body of 300 MB announced by li and never sent: li's second is
        # refused (max_body_mb in all per caller), others' small bodies are
        # not counted at all, and another importer can still send a large one
        held = []
        for _ in range(1):
            sk = socket.create_connection(self.host_port(), timeout=15)
            sk.sendall(("POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 314572800\r\n"
                        "Authorization: Bearer %s\r\n\r\n" % self.tok["li"]).encode())
            held.append(sk)
        time.sleep(0.3)
        st = self.raw(("POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 314572800\r\n"
                       "Authorization: Bearer %s\r\n\r\n" % self.tok["li"]).encode())
        self.assertEqual(st, 503)
        st, me, _ = self.d.request("POST", "/api/v1/login", json.dumps({"user": "ping", "password": PASSWORDS["ping"]}),
                                   "application/json", token=None)
        self.assertEqual(st, 200)
        st, _, _ = self.call("admin", "PUT", code_path(PLAIN) + "/pages/5", json.dumps({"text": "小的页面"}))
        self.assertIn(st, (200, 201))
        big = "".join(json.dumps({"code": f"Z031-WS·2018-Y-BGS-{3000 + i:04d}", "title": "大批量" + "字" * 400,
                                  "author": "x", "date": "20180101"}, ensure_ascii=False) + "\n" for i in range(1500))
        self.assertGreater(len(big.encode()), 1 << 20)
        st, a, _ = self.call("admin", "POST", "/api/v1/records", big, "application/x-ndjson")
        self.assertEqual((st, a["imported"]), (200, 1500))
        for sk in held:
            sk.close()

    def test_h2_text_needing_approval_stays_closed(self):
        q = "/api/v1/search?q=" + urllib.parse.quote("户主")
        st, a, _ = self.call("li", "GET", q)
        self.assertEqual(st, 200)
        self.assertNotIn(HOUSE, [h["code"] for h in a["hits"]])  # its text is not searched for li
        self.assertNotIn("贰仟元", json.dumps(a, ensure_ascii=False))
        # found by its catalog line: no snippet from the text, no page numbers
        st, a, _ = self.call("li", "GET", "/api/v1/search?q=" + urllib.parse.quote("张三家庭"))
        hit = [h for h in a["hits"] if h["code"] == HOUSE][0]
        self.assertEqual(hit["pages"], [])
        self.assertNotIn("贰仟元", hit["snippet"])
        self.assertIn("张三", hit["snippet"])
        # no draws of it, named or at random
        st, err, _ = self.call("ping", "GET", "/api/v1/timed-tests/draw?codes=" + urllib.parse.quote(HOUSE))
        self.assertEqual((st, err["error"]["status"]), (403, "approval_required"))
        for seed in range(1, 6):
            st, dr, _ = self.call("ping", "GET", f"/api/v1/timed-tests/draw?n=100&seed={seed}")
            self.assertNotIn(HOUSE, [x["code"] for x in dr["records"]])
            self.assertNotIn("贰仟", json.dumps(dr, ensure_ascii=False))
        st, reg, _ = self.call("admin", "GET", "/api/v1/register?user=li&code=" + urllib.parse.quote(HOUSE))
        self.assertEqual(reg["total"], 0)
        # with an approval: its text is found, shown, and the view registered
        st, req, _ = self.call("li", "POST", "/api/v1/approvals", json.dumps({"code": HOUSE, "purpose": "核实低保"}))
        self.assertIn(st, (200, 201))
        st, dec, _ = self.call("admin", "POST", f"/api/v1/approvals/{req['id']}/decision", json.dumps({"approve": True}))
        self.assertEqual(st, 200)
        st, a, _ = self.call("li", "GET", q)
        hit = [h for h in a["hits"] if h["code"] == HOUSE][0]
        self.assertEqual(hit["pages"], [1])
        self.assertIn("贰仟元", hit["snippet"])
        self.assertNotIn("_view", hit)
        st, reg, _ = self.call("admin", "GET", "/api/v1/register?user=li&code=" + urllib.parse.quote(HOUSE))
        self.assertEqual([(e["kind"], e["page"], e.get("approval")) for e in reg["entries"]], [("search", 1, req["id"])])

    def test_h2_timed_report_keeps_closed_text_closed(self):
        # the admin needs no approval: its draw of a household file holds a
        # phrase of its text, which the timed-test report must not show to
        # a reader without an approval
        code = "Z031-FH·2018-Y-0902"
        rec = {"code": code, "title": "五保户李四家庭档案", "author": "河口乡", "date": "20180205", "pages": 1,
               "page_texts": [{"n": 1, "text": "户主李四五保供养隐私正文内容"}]}
        st, a, _ = self.call("admin", "POST", "/api/v1/records", json.dumps(rec, ensure_ascii=False) + "\n",
                             "application/x-ndjson")
        self.assertEqual(a["imported"], 1)
        st, dr, _ = self.call("admin", "GET", "/api/v1/timed-tests/draw?codes=" + urllib.parse.quote(code))
        self.assertEqual(st, 200, dr)
        phrase = dr["records"][0]["phrase"]
        self.assertTrue(phrase and phrase in "户主李四五保供养隐私正文内容")
        for verb, body in (("start", {"kind": "fulltext"}), ("stop", {"kind": "fulltext", "found": True})):
            st, _, _ = self.call("admin", "POST", f"/api/v1/timed-tests/{dr['draw']}/trials/1/{verb}", json.dumps(body))
            self.assertEqual(st, 200)
        st, run, _ = self.call("admin", "POST", "/api/v1/timed-tests", json.dumps({"draw": dr["draw"]}))
        self.assertEqual(st, 201, run)
        st, rep, _ = self.call("admin", "GET", "/api/v1/reports/timed-tests")
        self.assertIn(phrase, json.dumps(rep, ensure_ascii=False))
        for fmt in ("json", "csv", "html"):
            st, raw, _ = self.call("ping", "GET", "/api/v1/reports/timed-tests?format=" + fmt, raw=True)
            self.assertEqual(st, 200)
            text = raw.decode("utf-8-sig")
            self.assertNotIn(phrase, text, fmt)
            self.assertIn("需审批", text, fmt)

    def test_h3_control_characters_refused_with_their_offset(self):
        st, err, _ = self.call("admin", "PUT", code_path(PLAIN) + "/pages/3", b"abc\x00def", "text/plain")
        self.assertEqual((st, err["error"]["status"]), (400, "invalid"))
        self.assertIn("第 4 字节", err["error"]["message"])
        st, err, _ = self.call("admin", "PUT", code_path(PLAIN) + "/pages/3", json.dumps({"text": "ab\u0007c"}))
        self.assertEqual(st, 400)
        self.assertIn("第 3 字节", err["error"]["message"])
        # every string the page holds, not its text only (OCR adds keys and boxes)
        st, err, _ = self.call("admin", "PUT", code_path(PLAIN) + "/pages/3", json.dumps({"text": "好", "engine": "a\u0001b"}))
        self.assertEqual(st, 400)
        self.assertIn("engine", err["error"]["message"])
        rec = {"code": PLAIN, "title": "标题\u0001", "author": "x", "date": "20180303"}
        st, err, _ = self.call("admin", "PUT", code_path(PLAIN), json.dumps(rec))
        self.assertEqual((st, err["error"].get("field")), (400, "title"))
        line = dict(rec, code="Z031-WS·2018-Y-BGS-0960")
        st, a, _ = self.call("admin", "POST", "/api/v1/records",
                             json.dumps(line) + "\n" + json.dumps(dict(line, code="Z031-WS·2018-Y-BGS-0961", title="好")) + "\n",
                             "application/x-ndjson")
        self.assertEqual((a["imported"], a["rejected_count"], a["rejected"][0]["line"]), (1, 1, 1))
        # the record PLAIN is intact and every search still lists it
        st, r, _ = self.call("li", "GET", code_path(PLAIN))
        self.assertEqual((st, r["title"]), (200, "关于精准扶贫工作的通知"))
        st, a, _ = self.call("li", "GET", "/api/v1/search?limit=100")
        self.assertEqual(st, 200)
        self.assertIn(PLAIN, [h["code"] for h in a["hits"]])

    def test_h4_long_queries_are_refused_not_run(self):
        text = "精准扶贫脱贫攻坚易地搬迁产业发展教育医疗兜底保障" * 60
        st, err, _ = self.call("ping", "GET", "/api/v1/search?q=" + urllib.parse.quote(text[:1365]))
        self.assertEqual((st, err["error"]["status"]), (400, "bad_query"))
        self.assertIn("检索式过于复杂", err["error"]["message"])
        # runs split by spaces, each long: refused as well
        spaced = " ".join(text[i:i + 12] for i in range(0, 1300, 12))
        st, err, _ = self.call("ping", "GET", "/api/v1/search?q=" + urllib.parse.quote(spaced))
        self.assertEqual((st, err["error"]["status"]), (400, "bad_query"))
        # ordinary queries, near matches included, still answer
        st, a, _ = self.call("ping", "GET", "/api/v1/search?q=" + urllib.parse.quote("精准扶贫工资"))
        self.assertEqual(st, 200)
        self.assertIn(PLAIN, [h["code"] for h in a["hits"] if not h["exact"]])

    # ---- medium -------------------------------------------------------------

    def test_m3_register_and_facets_describe_nothing_hidden(self):
        # asked about one hidden record, the register says what it says of an absent one
        self.call("admin", "GET", code_path(SECRET) + "/pages/1?purpose=" + urllib.parse.quote("核查"))
        answers = []
        for code in (SECRET, "Z031-WS·2018-Y-BGS-0998"):
            st, reg, _ = self.call("li", "GET", "/api/v1/register?code=" + urllib.parse.quote(code))
            answers.append((st, reg["total"], reg["hidden_total"], reg["entries"]))
        self.assertEqual(answers[0], answers[1])
        # a record raised above the reader's 密级 after the view is no longer described
        code = "Z031-WS·2018-Y-BGS-0970"
        rec = {"code": code, "title": "先公开后定密", "author": "x", "date": "20180101", "location": "5号库",
               "page_texts": [{"n": 1, "text": "正文"}]}
        self.call("admin", "POST", "/api/v1/records", json.dumps(rec, ensure_ascii=False) + "\n", "application/x-ndjson")
        st, _, _ = self.call("li", "GET", code_path(code) + "/pages/1?purpose=" + urllib.parse.quote("查阅"))
        self.assertEqual(st, 200)
        st, reg, _ = self.call("ping", "GET", "/api/v1/register?code=" + urllib.parse.quote(code))
        self.assertEqual(reg["total"], 1)
        del rec["page_texts"]
        st, _, _ = self.call("admin", "PUT", code_path(code), json.dumps(dict(rec, classification="机密", title="已定密")))
        self.assertEqual(st, 200)
        st, reg, _ = self.call("ping", "GET", "/api/v1/register?user=li")
        self.assertNotIn(code, json.dumps(reg, ensure_ascii=False))
        self.assertNotIn("先公开后定密", json.dumps(reg, ensure_ascii=False))
        # a facet's values are masked like every other string
        rec = {"code": "Z031-WS·2018-Y-BGS-0971", "title": "载体测试", "author": "x", "date": "20180101",
               "carrier": "纸质110101199001011237"}
        self.call("admin", "POST", "/api/v1/records", json.dumps(rec, ensure_ascii=False) + "\n", "application/x-ndjson")
        st, a, _ = self.call("li", "GET", "/api/v1/search?q=" + urllib.parse.quote("载体测试"))
        self.assertEqual(a["facets"]["carrier"], {"纸质110101********1237": 1})
        self.assertNotIn("19900101", json.dumps(a))
        # nor can a filter confirm the hidden digits (a guess at each would)
        for guess in ("纸质110101199001011237", "纸质110101199001021237"):
            st, err, _ = self.call("li", "GET", "/api/v1/search?carrier=" + urllib.parse.quote(guess))
            self.assertEqual((st, err["error"]["status"]), (403, "forbidden"))
        st, a, _ = self.call("admin", "GET", "/api/v1/search?carrier=" + urllib.parse.quote("纸质110101199001011237"))
        self.assertEqual((st, a["total"]), (200, 1))

    def test_m2_role_before_existence(self):
        absent, hidden = "Z031-WS·2018-Y-BGS-0999", SECRET
        for who in ("ping", "ven"):
            for code in (hidden, absent, PLAIN):
                st, _, _ = self.call(who, "PUT", code_path(code) + "/pages/99", json.dumps({"text": "x"}))
                self.assertEqual(st, 403, (who, code))
                st, _, _ = self.call(who, "PUT", code_path(code) + "/pages/99/image", b"\x89PNG", "image/png")
                self.assertEqual(st, 403, (who, code))
        for code in (absent, PLAIN):
            st, _, _ = self.call("ven", "GET", code_path(code) + "/pages/1")
            self.assertEqual(st, 403)
        # a writer gets the same answer for a hidden record as for an absent one
        answers = []
        for code in (hidden, absent):
            st, err, _ = self.call("li", "PUT", code_path(code) + "/pages/99", json.dumps({"text": "x"}))
            answers.append((st, err["error"]["message"].replace(code, "")))
            st, err, _ = self.call("li", "PUT", code_path(code) + "/pages/99/image", b"\x89PNG", "image/png")
            answers.append((st, err["error"]["message"].replace(code, "")))
            st, err, _ = self.call("li", "DELETE", code_path(code))
            answers.append((st, err["error"]["message"].replace(code, "")))
        self.assertEqual(answers[:3], answers[3:])
        self.assertEqual({a[0] for a in answers}, {404})

    def test_m5_a_failing_row_does_not_fail_the_others(self):
        good = [{"code": f"Z031-WS·2018-Y-BGS-{i:04d}", "title": f"好行{i}", "author": "x", "date": "20180101"}
                for i in range(1000, 1019)]
        long = {"code": "Z031-WS·2018-Y-BGS-1100", "title": "l" * 300, "author": "x", "date": "20180101"}
        body = "".join(json.dumps(x) + "\n" for x in good[:10] + [long] + good[10:])
        st, a, _ = self.call("admin", "POST", "/api/v1/records", body, "application/x-ndjson")
        self.assertEqual(st, 200, a)
        # every row written, the long word included (its terms are cut, not refused)
        self.assertEqual((a["imported"], a["rejected_count"]), (20, 0), a)
        for x in good + [long]:
            st, _, _ = self.call("admin", "GET", code_path(x["code"]))
            self.assertEqual(st, 200, x["code"])
        st, r, _ = self.call("admin", "PUT", code_path("Z031-WS·2018-Y-BGS-1101"), json.dumps(dict(long, code="Z031-WS·2018-Y-BGS-1101")))
        self.assertEqual(st, 201, r)

    # ---- low ----------------------------------------------------------------

    def test_l2_every_answer_forbids_framing_and_sniffing(self):
        for who, method, path, body in ((None, "GET", "/", None), (None, "GET", "/app.js", None),
                                        (None, "GET", "/api/v1/search", None), ("li", "GET", "/api/v1/search", None),
                                        ("ven", "GET", "/api/v1/search", None), ("li", "PUT", "/api/v1/search", "{}"),
                                        ("admin", "GET", "/api/v1/reports/coverage?format=html", None),
                                        (None, "GET", "/nosuch.html", None)):
            st, _, h = self.call(who, method, path, body, raw=True)
            self.assertEqual(h["X-Content-Type-Options"], "nosniff", path)
            self.assertEqual(h["X-Frame-Options"], "DENY", path)
            self.assertIn("frame-ancestors 'none'", h["Content-Security-Policy"], path)
            self.assertIn("script-src 'self'", h["Content-Security-Policy"], path)

    def test_l5_many_parameters_get_an_answer(self):
        t0 = time.time()
        qs = "&".join(f"p{i}=v{i}" for i in range(1000))
        st = self.raw(f"GET /api/v1/search?{qs} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        self.assertEqual(st, 401)
        st = self.raw(f"GET /api/v1/search?{qs} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {self.tok['li']}\r\n\r\n".encode())
        self.assertEqual(st, 200)
        # past 1000 parameters (8000 filled libmicrohttpd's pool, which then answered nothing): 414 at once
        for n in (1001, 8000, 30000):
            qs = "&".join(f"p{i}=v{i}" for i in range(n))
            for auth in ("", f"Authorization: Bearer {self.tok['li']}\r\n"):
                st = self.raw(f"GET /api/v1/search?{qs} HTTP/1.1\r\nHost: x\r\n{auth}\r\n".encode())
                self.assertEqual(st, 414, (n, auth))
        self.assertLess(time.time() - t0, 20)  # answers, not connection timeouts

    def test_l5_long_uris_get_an_answer(self):
        # past 64 KiB a URI is refused at once, with or without a caller
        for uri in ("/api/v1/search?q=" + "a" * (70 << 10), "/" + "a" * (70 << 10)):
            for auth in ("", f"Authorization: Bearer {self.tok['li']}\r\n"):
                st = self.raw(f"GET {uri} HTTP/1.1\r\nHost: x\r\n{auth}\r\n".encode())
                self.assertEqual(st, 414, (uri[:20], auth))
        st = self.raw(f"GET /api/v1/search?q=a&x={'b' * (60 << 10)} HTTP/1.1\r\nHost: x\r\n"
                      f"Authorization: Bearer {self.tok['li']}\r\n\r\n".encode())
        self.assertEqual(st, 200)

    def test_g_ambiguous_body_length_refused(self):
        body = json.dumps({"user": "li", "password": PASSWORDS["li"]}).encode()
        n = len(body)
        for head in (f"Content-Length: {n}\r\nContent-Length: {n}\r\n",
                     f"Content-Length: {n}\r\nContent-Length: {n + 5}\r\n",
                     f"Content-Length: {n}\r\nTransfer-Encoding: chunked\r\n",
                     f"Content-Length: +{n}\r\n"):
            st = self.raw(f"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{head}\r\n".encode(),
                          body + b"\r\n0\r\n\r\n" if "chunked" in head else body)
            self.assertEqual(st, 400, head)
        st = self.raw(f"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      f"Content-Length: {n}\r\n\r\n".encode(), body)
        self.assertEqual(st, 200)
        # headers that one server reads as the body's length and another
        # does not: the request is refused and nothing after it on the
        # connection is answered (a smuggled request would get an answer)
        smuggled = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        for head, want in ((f"Content-Length : {n}\r\n", 400), (f"Content-Length: {n}\r\n 5\r\n", 400),
                           ("Transfer-Encoding:\r\n chunked\r\n", 400), ("Transfer-Encoding : chunked\r\n", 400),
                           ("Transfer-Encoding: gzip, chunked\r\n", 501), ("Transfer-Encoding: identity\r\n", 501)):
            with socket.create_connection(self.host_port(), timeout=15) as sk:
                sk.sendall(f"POST /api/v1/login HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode() + body + smuggled)
                data = b""
                while True:
                    part = sk.recv(65536)
                    if not part:
                        break
                    data += part
            self.assertEqual(re.findall(rb"HTTP/1.1 (\d+)", data), [str(want).encode()], head)

    def test_h1_chunked_body_past_the_budget_gets_503(self):
        # a body without a length that finds the daemon's budget for held
        # bodies spent is read to its end and answered 503, not cut off
        d = Daemon(EXE, extra=["--max-body-mb", "64", "--max-buffered-mb", "2"]).start()
        try:
            host, port = d.base.split("//")[1].split(":")
            c = http.client.HTTPConnection(host, int(port), timeout=60)
            c.request("POST", "/api/v1/records", body=(b"x" * 65536 for _ in range(320)),  # 20 MiB
                      headers={"Content-Type": "application/x-ndjson", "Authorization": "Bearer " + d.token},
                      encode_chunked=True)
            r = c.getresponse()
            self.assertEqual(r.status, 503)
            self.assertEqual(json.loads(r.read())["error"]["status"], "unavailable")
            c.close()
            st, h, _ = d.request("GET", "/healthz")
            self.assertEqual(st, 200)
        finally:
            d.cleanup()

    def test_l6_a_loader_knows_what_is_durable(self):
        row = {"code": "Z031-WS·2018-Y-BGS-1200", "title": "批量", "author": "x", "date": "20180101"}
        st, a, _ = self.call("admin", "POST", "/api/v1/records?commit=0", json.dumps(row) + "\n", "application/x-ndjson")
        self.assertEqual((st, a["committed"]), (200, False))
        seq = a["seq"]
        st, c, _ = self.call("admin", "POST", "/api/v1/commit", "")
        self.assertEqual(st, 200)
        self.assertGreaterEqual(c["durable_seq"], seq)
        st, c, _ = self.call("admin", "GET", "/api/v1/commit")
        self.assertGreaterEqual(c["durable_seq"], seq)
        st, _, _ = self.call("ping", "GET", "/api/v1/commit")
        self.assertEqual(st, 403)

    def test_l7_head(self):
        for path in ("/healthz", "/", "/app.js"):
            c = http.client.HTTPConnection(*self.host_port(), timeout=10)
            c.request("HEAD", path)
            r = c.getresponse()
            self.assertEqual((r.status, r.read()), (200, b""), path)
            c.close()


if __name__ == "__main__":
    unittest.main()
