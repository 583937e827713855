"""A delivery as Chinese office software and vendors really write it, through
ingest and the real daemon: a GB18030 catalog with a 序号 column, 门类 and
保管期限 by name, the five date spellings (full-width digits too), look-alike
separators in the 档号, 页数 with a unit, a blank row, a repeated header, a
合计 row, an exact duplicate, a NUL in a title, a 20,000-character 备注 and
a quote never closed;
born-digital scans for every item.  Every item must be imported, every
irregularity listed once with its line, field and rule, nothing changed
without a word, and every item's text found by phrase search."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, code_path, run_ingest  # noqa: E402

INDEXD = os.environ.get("INDEXD", "build/indexd/indexd")
INGEST = os.environ.get("INGEST", "build/ocr/ingest")
QUERY = os.environ.get("QUERY", "build/query/query")

HEAD = "序号,档号,门类,题名,责任者,日期,页数,保管期限,备注"
# (line in the file, row as written, the 档号 it names or None, findings as (rule, key))
ROWS = [
    (2, "1,Z061-WS·2017-Y-FPB-0001,文书,关于开展精准识别的通知,县扶贫办,2017-3-7,2,永久,",
     "Z061-WS·2017-Y-FPB-0001", [("category_name", "category"), ("date_form", "date")]),
    (3, "2,Z061-WS．2017-Y-FPB-0002,扶贫文书,贫困户评议公示,城关镇,2017年3月8日,1,永久,",
     "Z061-WS·2017-Y-FPB-0002", [("category_name", "category"), ("code_form", "code"), ("date_form", "date")]),
    (4, "3,Z061-WS-2017-Y-FPB-3,文书,驻村工作队名单,县委组织部,2017/3/9,1,永久,",
     "Z061-WS·2017-Y-FPB-0003", [("category_name", "category"), ("code_form", "code"), ("date_form", "date")]),
    (5, "4,Z061-WS·2017-Y-FPB-0004,文书,产业扶贫项目计划,县农业局,2017.03.10,2页,永久,",
     "Z061-WS·2017-Y-FPB-0004", [("category_name", "category"), ("date_form", "date"), ("pages_form", "pages")]),
    (6, "5,Z061-WS·2017-Y-FPB-0005,文书,小额信贷贴息名册,县财政局,２０１７０３１１,1,永久,",
     "Z061-WS·2017-Y-FPB-0005", [("category_name", "category"), ("date_form", "date")]),
    (7, ",,,,,,,,", None, []),
    (8, "6,Z061-WS·2017-Y-FPB-0006,文书,,县扶贫办,20170312,1,永久,",
     "Z061-WS·2017-Y-FPB-0006", [("category_name", "category"), ("mandatory", "title")]),
    (9, HEAD, None, []),
    (10, "7,Z061-WS·2017-Y-FPB-0007,文书,危房改造\0验收表,县住建局,20170313,1,永久,",
     "Z061-WS·2017-Y-FPB-0007", [("category_name", "category"), ("control", "title")]),
    (11, "8,Z061-WS·2017-D30-FPB-0008,文书,帮扶日志,县扶贫办,20170314,1,30年," + "帮扶记录" * 5000,
     "Z061-WS·2017-D30-FPB-0008", [("category_name", "category"), ("length", "note")]),
    # an exact duplicate of line 2: one record, one warning, no findings again
    (12, "1,Z061-WS·2017-Y-FPB-0001,文书,关于开展精准识别的通知,县扶贫办,2017-3-7,2,永久,",
     "Z061-WS·2017-Y-FPB-0001", []),
    (13, '9,Z061-WS·2017-Y-FPB-0009,文书,"贫困户退出验收表,县扶贫办,20170315,1,永久,',
     "Z061-WS·2017-Y-FPB-0009", [("category_name", "category"), ("unclosed_quote", "title")]),
    (14, ",合计,,,,,10,,", None, []),
]
ITEMS = sorted({r[2] for r in ROWS if r[2]})
UNLINKED = "Z061-WS·2017-Y-FPB-0099"


class CatalogTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="catalog-test-")
        cls.folder = os.path.join(cls.tmp, "delivery")
        os.makedirs(cls.folder)
        text = "\r\n".join([HEAD] + [r[1] for r in ROWS]) + "\r\n"
        with open(os.path.join(cls.folder, "目录.csv"), "wb") as f:
            f.write(text.encode("gb18030"))
        # born-digital scans: one text file per item, a phrase of its own
        for i, code in enumerate(ITEMS):
            with open(os.path.join(cls.folder, code + ".txt"), "wb") as f:
                f.write(f"第{i + 1}号文件正文：精准扶贫落实情况之{'甲乙丙丁戊己庚辛壬'[i]}项".encode("gb18030"))
        # this unit writes 扶贫文书 for 文书 (config key category_names)
        # a scan that no row names: read all the same, kept waiting for its row (待挂接)
        with open(os.path.join(cls.folder, UNLINKED + ".txt"), "wb") as f:
            f.write("待挂接的扫描件正文：易地搬迁安置协议".encode("gb18030"))
        cls.d = Daemon(INDEXD, extra=("--category-names", "扶贫文书=WS"))
        cls.d.add_user("ping", "evaluator", "ping-Pw-2024")
        cls.d.start()
        cls.ev = cls.d.make_token("ping")
        cls.ingest, cls.report = run_ingest(INGEST, cls.d.base, cls.folder, report=os.path.join(cls.tmp, "report.json"))

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def import_answer(self):
        return self.report["catalog"]

    def test_every_item_imported(self):
        self.assertIn(self.ingest.returncode, (0, 3), self.ingest.stderr)
        imp = self.import_answer()
        self.assertEqual(imp["imported"], len(ITEMS))
        self.assertEqual(imp["rejected"], [])
        self.assertEqual(imp["furniture_rows"], 2)  # the repeated header and the 合计 row
        for code in ITEMS:
            st, rec, _ = self.d.request("GET", code_path(code))
            self.assertEqual(st, 200, code)

    def test_every_irregularity_listed_once(self):
        imp = self.import_answer()
        got = sorted((f["line"], f["rule"], f["key"]) for f in imp["findings"])
        want = sorted((line, rule, key) for line, _, _, finds in ROWS for rule, key in finds)
        self.assertEqual(got, want)
        self.assertEqual(imp["findings_count"], len(want))
        by = {(f["line"], f["rule"]): f for f in imp["findings"]}
        # what was written and what was understood, for people to check
        self.assertEqual((by[(2, "date_form")]["written"], by[(2, "date_form")]["understood"]), ("2017-3-7", "20170307"))
        self.assertEqual(by[(4, "code_form")]["understood"], "Z061-WS·2017-Y-FPB-0003")
        self.assertEqual(by[(6, "date_form")]["understood"], "20170311")
        self.assertEqual(by[(5, "pages_form")]["understood"], "2")
        self.assertEqual(by[(2, "category_name")]["severity"], "note")
        # what was written stays visible: the control character as its picture
        self.assertEqual((by[(10, "control")]["written"], by[(10, "control")]["understood"]), ("危房改造␚验收表", "危房改造验收表"))
        self.assertTrue(by[(11, "length")]["written"].startswith("帮扶记录帮扶记录"))
        self.assertEqual(by[(11, "length")]["understood"], "全文保留")
        # the quote never closed is read as a plain character, and said so
        self.assertEqual(by[(13, "unclosed_quote")]["understood"], "贫困户退出验收表")
        self.assertTrue(by[(13, "unclosed_quote")]["written"].startswith('"贫困户退出验收表,县扶贫办'))
        # the exact duplicate is one record and one warning
        self.assertEqual([w["line"] for w in imp["warnings"] if w["key"] == "code"], [12])

    def test_nothing_changed_without_a_word(self):
        st, rec, _ = self.d.request("GET", code_path("Z061-WS·2017-Y-FPB-0007"))
        self.assertEqual(rec["record"]["title"] if "record" in rec else rec["title"], "危房改造验收表")
        st, rec, _ = self.d.request("GET", code_path("Z061-WS·2017-D30-FPB-0008"))
        note = rec["record"]["note"] if "record" in rec else rec["note"]
        self.assertEqual(len(note), 20000)  # kept whole
        st, rec, _ = self.d.request("GET", code_path("Z061-WS·2017-Y-FPB-0004"))
        r = rec["record"] if "record" in rec else rec
        self.assertEqual((r["date"], r["pages"], r["category"]), ("20170310", 2, "WS"))

    def test_scans_read_and_found(self):
        for i, code in enumerate(ITEMS):
            phrase = f"精准扶贫落实情况之{'甲乙丙丁戊己庚辛壬'[i]}项"
            st, body = self.d.search(q=f'"{phrase}"')[:2]
            self.assertEqual(st, 200)
            self.assertEqual([h["code"] for h in body["hits"]], [code], phrase)

    def test_digitization_rate_counts_flagged_records(self):
        st, r, _ = self.d.request("GET", "/api/v1/reports/coverage?fonds=Z061")
        self.assertEqual(st, 200, r)
        # every record is permanent or 30-year paper, flagged or not; all
        # but the two of 2 pages (one page scanned each) are digitized
        self.assertEqual((r["total"], r["digitized"]), (len(ITEMS), len(ITEMS) - 2))
        self.assertEqual([m["code"] for m in r["missing"]], ["Z061-WS·2017-Y-FPB-0001", "Z061-WS·2017-Y-FPB-0004"])
        self.assertEqual(r["pages"], {"total": 11, "scanned": 9, "rate": 0.8182})

    def test_u_unlinked_scans_kept_and_linked(self):
        """A scan no catalog row names is read and kept (待挂接), seen by those
        who link catalogs only, left out of the rate; its row links it."""
        probs = self.report["problems"]["scans_without_catalog_row"]
        self.assertEqual([p["code"] for p in probs], [UNLINKED])
        self.assertIn("待挂接", probs[0]["reason"])
        st, body = self.d.search(q='"易地搬迁安置协议"')[:2]
        self.assertEqual([(h["code"], h.get("unlinked")) for h in body["hits"]], [(UNLINKED, True)])
        st, rec, _ = self.d.request("GET", code_path(UNLINKED))
        self.assertEqual((st, rec["unlinked"], rec["stored_pages"], rec["fonds"], rec["retention"]),
                         (200, True, [1], "Z061", "Y"))
        self.assertEqual(rec["unlinked_from"]["source"], "扫描件（delivery）")
        # an evaluator neither finds nor opens it
        st, body = self.d.request("GET", "/api/v1/search?q=%22%E6%98%93%E5%9C%B0%E6%90%AC%E8%BF%81%E5%AE%89%E7%BD%AE%E5%8D%8F%E8%AE%AE%22",
                                  token=self.ev)[:2]
        self.assertEqual((st, body["total"]), (200, 0))
        st, _, _ = self.d.request("GET", code_path(UNLINKED), token=self.ev)
        self.assertEqual(st, 404)
        # not a catalog entry: not in the rate, counted apart
        st, cov, _ = self.d.request("GET", "/api/v1/reports/coverage?fonds=Z061")
        self.assertEqual((cov["total"], cov["unlinked"]), (len(ITEMS), 1))
        # its row arrives (no replace asked): linked, not a conflict; the page stays
        row = f"档号,题名,责任者,日期,页数,保管期限\n{UNLINKED},易地扶贫搬迁安置协议,县发改局,20170320,1,永久\n"
        st, a, _ = self.d.request("POST", "/api/v1/catalog", row.encode(), "text/csv")
        self.assertEqual((st, a["imported"], a["linked"], a["conflicts_count"], a["replaced"]), (200, 1, 1, 0, 0), a)
        st, rec, _ = self.d.request("GET", code_path(UNLINKED))
        self.assertEqual((rec["unlinked"], rec["title"], rec["stored_pages"]), (False, "易地扶贫搬迁安置协议", [1]))
        self.assertTrue(rec["history"][-1]["source"].startswith("挂接："), rec["history"])
        st, body = self.d.request("GET", "/api/v1/search?q=%22%E6%98%93%E5%9C%B0%E6%90%AC%E8%BF%81%E5%AE%89%E7%BD%AE%E5%8D%8F%E8%AE%AE%22",
                                  token=self.ev)[:2]
        self.assertEqual([h["code"] for h in body["hits"]], [UNLINKED])
        st, cov, _ = self.d.request("GET", "/api/v1/reports/coverage?fonds=Z061")
        self.assertEqual((cov["total"], cov["unlinked"]), (len(ITEMS) + 1, 0))

    def test_unknown_classification_kept_closed_then_corrected(self):
        code = "Z061-WS·2017-Y-FPB-0077"
        row = f"档号,题名,责任者,日期,页数,密级\n{code},低保户名单,民政局,20170301,1,一般\n"
        st, a, _ = self.d.request("POST", "/api/v1/catalog", row.encode(), "text/csv")
        self.assertEqual((st, a["imported"], a["rejected_count"]), (200, 1, 0), a)
        self.assertIn("classification", [f["rule"] for f in a["findings"]])
        # kept as written, closed to every reader but the top clearance
        # (the admin, who corrects it) until corrected; found by the admin only
        self.assertEqual(self.d.request("GET", code_path(code))[0], 200)
        self.assertEqual(self.d.request("GET", code_path(code), token=self.ev)[0], 404)
        self.assertEqual(self.d.search(q='"低保户名单"')[1]["total"], 1)
        st, body, _ = self.d.request("GET", "/api/v1/search?q=%22%E4%BD%8E%E4%BF%9D%E6%88%B7%E5%90%8D%E5%8D%95%22", token=self.ev)
        self.assertEqual(body["total"], 0)
        fixed = row.replace(",一般", ",内部")
        st, a, _ = self.d.request("POST", "/api/v1/catalog?replace=1", fixed.encode(), "text/csv")
        self.assertEqual((st, a["imported"], a["rejected_count"]), (200, 1, 0), a)
        st, rec, _ = self.d.request("GET", code_path(code))
        self.assertEqual((st, rec["classification"]), (200, "内部"))
        # the admin sees what it was
        self.assertEqual(rec["history"][-1]["changed"][0]["kept"], "一般")

    def test_thin_catalog_replace_erases_nothing(self):
        code = "Z061-WS·2017-Y-FPB-0003"
        st, before, _ = self.d.request("GET", code_path(code))
        thin = f"档号,题名\n{code},驻村工作队名单（补正）\n"
        name = "驻村工作队补正目录（第二批，县档案馆整理）" * 3  # 189 bytes: a long name is kept whole
        st, bad, _ = self.d.request("POST", "/api/v1/catalog?replace=1&name=" + urllib.parse.quote(name * 2), thin.encode(), "text/csv")
        self.assertEqual((st, bad["error"]["param"]), (400, "name"))
        st, a, _ = self.d.request("POST", "/api/v1/catalog?replace=1&name=" + urllib.parse.quote(name), thin.encode(), "text/csv")
        self.assertEqual(st, 200, a)
        self.assertEqual((st, a["imported"], a["replaced"]), (200, 1, 1), a)
        # nor does the import's account say they are missing
        self.assertEqual([f["key"] for f in a["findings"] if f["rule"] == "mandatory"], [])
        # while a new record of such a catalog does lack them
        new = f"档号,题名\nZ062-WS·2017-Y-FPB-0088,只有题名的新条目\n"
        st, b, _ = self.d.request("POST", "/api/v1/catalog", new.encode(), "text/csv")
        self.assertEqual(sorted(f["key"] for f in b["findings"] if f["rule"] == "mandatory"), ["author", "date", "pages"])
        self.assertEqual({f["code"] for f in b["findings"] if f["rule"] == "mandatory"}, {"Z062-WS·2017-Y-FPB-0088"})
        st, rec, _ = self.d.request("GET", code_path(code))
        for k in ("author", "date", "pages", "retention", "category", "location"):
            self.assertEqual(rec.get(k), before.get(k), k)
        self.assertEqual(rec["title"], "驻村工作队名单（补正）")
        src = rec["history"][-1]["source"]
        self.assertTrue(src.startswith("目录导入（替换）：驻村工作队补正目录") and src.endswith(" 第 2 行"), src)
        # what the archive holds is not missing: no finding says so
        self.assertEqual([f for f in rec["findings"] if f["rule"] == "mandatory"], [])

    def test_category_names_checked_at_start(self):
        bad = subprocess.run([INDEXD, "--category-names", "扶贫文书=ws", "--data-dir", os.path.join(self.tmp, "x")],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("category_names", bad.stderr)
        self.assertIn("不是 1 到 8 个大写字母", bad.stderr)

    def test_z_conflicting_delivery(self):
        """Last: a second delivery brings a row that differs from the archive's."""
        code = "Z061-WS·2017-Y-FPB-0004"
        st, before, _ = self.d.request("GET", code_path(code))
        folder = os.path.join(self.tmp, "delivery2")
        os.makedirs(folder)
        row = f"{code},产业扶贫项目计划（修订）,县农业局,20170310,5,永久,1号库-09列-1节-1层-099盒"
        with open(os.path.join(folder, "catalog.csv"), "wb") as f:  # UTF-8 with a BOM, as some exports write
            f.write(("\ufeff档号,题名,责任者,日期,页数,保管期限,存放位置\r\n" + row + "\r\n").encode("utf-8"))
        with open(os.path.join(folder, code + ".txt"), "wb") as f:
            f.write("修订后的正文".encode("gb18030"))
        run, rep = run_ingest(INGEST, self.d.base, folder, report=os.path.join(self.tmp, "report2.json"))
        self.assertEqual(run.returncode, 3, run.stdout + run.stderr)  # problems found
        conf = rep["problems"]["catalog_conflicts"]
        self.assertEqual([c["code"] for c in conf], [code])
        self.assertEqual(sorted(x["key"] for x in conf[0]["fields"]), ["location", "pages", "title"])
        by = {x["key"]: x for x in conf[0]["fields"]}
        self.assertEqual((by["title"]["kept"], by["title"]["offered"]), ("产业扶贫项目计划", "产业扶贫项目计划（修订）"))
        # by default the archive's row is kept, and its pages: the delivery's
        # scans of that record are held back; acceptance fails on both
        self.assertEqual([x["file"] for x in rep["problems"]["scans_held_back"]], [code + ".txt"])
        st, now, _ = self.d.request("GET", code_path(code))
        self.assertEqual((now["title"], now["pages"], now["location"]), (before["title"], before["pages"], before["location"]))
        st, page, _ = self.d.request("GET", code_path(code) + "/pages/1?purpose=%E6%B5%8B%E8%AF%95")
        self.assertNotIn("修订后的正文", page["text"])
        st, acc, _ = self.d.request("GET", "/api/v1/reports/acceptance?delivery=delivery2")
        self.assertFalse(acc["passed"])
        counts = {c["check"]: c["count"] for c in acc["checks"]}
        self.assertEqual((counts["catalog_conflicts"], counts["scans_held_back"]), (1, 1))
        # with --replace the delivery's row wins, and the old one is in the history
        run, _ = run_ingest(INGEST, self.d.base, folder, "--replace")
        self.assertIn(run.returncode, (0, 3), run.stderr)
        st, now, _ = self.d.request("GET", code_path(code))
        self.assertEqual((now["title"], now["pages"], now["location"]),
                         ("产业扶贫项目计划（修订）", 5, "1号库-09列-1节-1层-099盒"))
        self.assertEqual(now["history"][-1]["old"]["title"], "产业扶贫项目计划")
        self.assertIn("title", [x["key"] for x in now["history"][-1]["changed"]])
        # from which delivery, which catalog, which line
        self.assertEqual(now["history"][-1]["source"], "目录导入（替换）：delivery2/catalog.csv 第 2 行")
        st, page, _ = self.d.request("GET", code_path(code) + "/pages/1?purpose=%E6%B5%8B%E8%AF%95")
        self.assertEqual(page["text"], "修订后的正文")

    def test_findings_kept_with_the_record_until_corrected(self):
        code = "Z061-WS·2017-Y-FPB-0006"  # no 题名
        st, rec, _ = self.d.request("GET", code_path(code))
        self.assertEqual([(f["rule"], f["key"]) for f in rec["findings"] if f["severity"] != "note"], [("mandatory", "title")])
        self.assertRegex(rec["findings"][-1]["reason"], "题名")
        # a page written later leaves them; a corrected row (replacing) clears them
        st, _, _ = self.d.request("PUT", code_path(code) + "/pages/2", "补扫的一页", "text/plain")
        st, rec, _ = self.d.request("GET", code_path(code))
        self.assertTrue(rec["findings"])
        fixed = f"档号,题名,责任者,日期,页数,保管期限,门类\n{code},贫困户动态调整名单,县扶贫办,20170312,1,永久,WS\n"
        st, a, _ = self.d.request("POST", "/api/v1/catalog?replace=1", fixed.encode(), "text/csv")
        self.assertEqual((st, a["imported"], a["findings_count"]), (200, 1, 0), a)
        st, rec, _ = self.d.request("GET", code_path(code))
        self.assertEqual((rec["title"], rec["findings"]), ("贫困户动态调整名单", []))

    def test_y_cli_import_conflict_and_replace(self):
        code = "Z061-WS·2017-Y-FPB-0005"
        path = os.path.join(self.tmp, "fix.csv")
        with open(path, "wb") as f:
            f.write(f"档号,题名,责任者,日期,页数\n{code},小额信贷贴息名册（更正）,县财政局,20170311,1\n".encode("gb18030"))
        env = dict(os.environ, INDEXD_URL=self.d.base, INDEXD_TOKEN=self.d.token)
        r = subprocess.run([QUERY, "import", path], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 3, r.stdout + r.stderr)
        self.assertIn("冲突      第 2 行：" + code, r.stdout)
        self.assertIn("小额信贷贴息名册（更正）", r.stdout)
        r = subprocess.run([QUERY, "import", "--replace", path], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        st, rec, _ = self.d.request("GET", code_path(code))
        self.assertEqual(rec["title"], "小额信贷贴息名册（更正）")
        self.assertEqual(rec["history"][-1]["old"]["title"], "小额信贷贴息名册")
        # who replaced it, from where; and this catalog, which has no 保管期限
        # or 门类 column, leaves those as the archive holds them
        # (the client names the file, the daemon the line)
        self.assertEqual((rec["history"][-1]["by"], rec["history"][-1]["source"]), ("harness", "目录导入（替换）：fix.csv 第 2 行"))
        self.assertEqual([x["key"] for x in rec["history"][-1]["changed"]], ["title"])
        self.assertEqual((rec["retention"], rec["category"], rec["author"]), ("Y", "WS", "县财政局"))
        r = subprocess.run([QUERY, "get", code], capture_output=True, text=True, env=env)
        self.assertRegex(r.stdout, r"修改记录\s+\S+ 目录导入（替换）：fix.csv 第 2 行（harness）：题名 “小额信贷贴息名册” → “小额信贷贴息名册（更正）”")

    def test_whole_import_errors_are_chinese(self):
        """A catalog that cannot be imported at all says why, in Chinese, with its line."""
        post = lambda body: self.d.request("POST", "/api/v1/catalog", body, "text/csv")
        st, body, _ = post("题名,日期\n通知,20170101\n".encode())
        self.assertEqual((st, body["error"]["status"], body["error"]["line"]), (400, "invalid", 1), body)
        self.assertEqual(body["error"]["message"],
                         "目录没有档号列（也没有可组成档号的全宗号、门类、年度、保管期限、件号列）；第一行应为各列的名称")
        st, body, _ = post(b"")
        self.assertEqual((st, body["error"]["message"]), (400, "目录为空：没有表头行"), body)
        # one cell in another encoding keeps its row, converted and said so
        st, body, _ = post("\ufeff档号,题名\nZ062-WS·2017-Y-0001,".encode() + b"\xb7\xf6\n")
        self.assertEqual((st, body["imported"], body["encoding"]), (200, 1, "utf-8-bom"), body)
        self.assertEqual([(f["line"], f["key"], f["severity"], f["written"], f["understood"])
                          for f in body["findings"] if f["rule"] == "encoding"], [(2, "title", "warning", "\\xB7\\xF6", "扶")])
        # a file that is mostly not text is refused, its first bad line named
        st, body, _ = post("档号,题名\n".encode() + b"\x80\x80\n\xff\xff\n")
        self.assertEqual((st, body["error"]["status"], body["error"]["message"]),
                         (400, "encoding", "第 2 行既不是 UTF-8 也不是 GB18030 编码（第 15 字节）；文件的 3 行中有 2 行如此，不像是文本文件"), body)
        # a row whose 档号 cannot be read even leniently is kept out, the parser's reason given
        st, body, _ = post("档号,题名,责任者,日期,页数\nZ062-WS·17-Y-0001,通知,县扶贫办,20170101,1\n".encode())
        self.assertEqual((st, body["imported"], body["kept"]), (200, 0, False), body)
        self.assertEqual([(x["line"], x["key"], x["reason"]) for x in body["rejected"]],
                         [(2, "code", "档号无法读取：年度“17”应为 4 位数字")])

    def test_messages_for_people_are_chinese(self):
        imp = self.import_answer()
        for f in imp["findings"] + imp["warnings"]:
            self.assertRegex(f["reason"], "[\u4e00-\u9fff]", f)
            self.assertNotRegex(f["reason"], r"\b(is|must|the|does|not|missing)\b", f)


if __name__ == "__main__":
    unittest.main()
