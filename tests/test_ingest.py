"""Integration tests of ingest against the real daemon: a delivery built by
the test (every scan format, born-digital files, and the problems of a real
delivery), the report's exact lists, search over the OCR text (phrases
across line breaks included), page images and hit boxes, kill -9 at random
points and resume, a changed file read again."""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, code_path, run_ingest as ingest_run  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
INDEXD = os.environ.get("INDEXD", "build/indexd/indexd")
INGEST = os.environ.get("INGEST", "build/ocr/ingest")
QUERY = os.environ.get("QUERY", "build/query/query")
FIXTURES = os.path.join(HERE, "..", "bench", "ocr_fixtures.py")
PYTHON = "/usr/bin/python3"  # Debian's, with PIL and cairo


def make_delivery(out, items, problems, seed=1, lines=5, pages=2):
    args = [PYTHON, FIXTURES, "--out", out, "--items", str(items), "--lines", str(lines),
            "--pages", str(pages), "--seed", str(seed)]
    if problems:
        args.append("--problems")
    subprocess.run(args, check=True)
    with open(out.rstrip("/") + ".truth.json", encoding="utf-8") as f:
        return json.load(f)


def run_ingest(base, folder, *extra, timeout=900):
    return ingest_run(INGEST, base, folder, *extra, timeout=timeout)[0]


def han(s):
    return "".join(c for c in s if "\u4e00" <= c <= "\u9fff")


class IngestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ingest-test-")
        cls.folder = os.path.join(cls.tmp, "delivery")
        cls.truth = make_delivery(cls.folder, items=8, problems=True)
        cls.d = Daemon(INDEXD).start()
        cls.run1, cls.report = ingest_run(INGEST, cls.d.base, cls.folder, report=os.path.join(cls.tmp, "report.json"))

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_exit_and_report_lists(self):
        # problems found: exit status 3, and the report on screen
        self.assertEqual(self.run1.returncode, 3, self.run1.stderr)
        self.assertIn("数字化成果导入报告", self.run1.stdout)
        self.assertIn("无法读取或不支持的文件：4", self.run1.stdout)
        probs = self.report["problems"]
        want = self.truth["problems"]
        for key in ("unreadable_files", "scans_without_catalog_row", "catalog_rows_without_scans",
                    "page_count_mismatch", "low_dpi", "blank_pages", "missing_pages", "page_conflicts"):
            got = sorted({p["code"] for p in probs.get(key, [])})
            self.assertEqual(got, sorted(want[key]), key)
        self.assertEqual([p["file"] for p in probs["unrecognised_files"]], want["unrecognised_files"])
        self.assertEqual(len(probs["catalog_rejected"]), 1)
        self.assertEqual(probs["catalog_rejected"][0]["key"], "code")
        # each unreadable file has its own clear reason
        reasons = {p["code"]: p["reason"] for p in probs["unreadable_files"]}
        self.assertTrue(any("文件为空" in r for r in reasons.values()), reasons)
        self.assertTrue(any("百万像素" in r for r in reasons.values()), reasons)
        self.assertTrue(any("PDF" in r for r in reasons.values()), reasons)
        # the reasons are for people: in Chinese, no English sentence
        for p in probs["unreadable_files"] + probs["unrecognised_files"]:
            self.assertRegex(p["reason"], "[\u4e00-\u9fff]", p)
            self.assertNotRegex(p["reason"], r"[A-Za-z][a-z]+ [a-z]+ [a-z]+", p)
        self.assertTrue(any("image/jpeg" in r for r in reasons.values()), reasons)
        self.assertEqual(len(reasons), 4)
        self.assertEqual(probs["missing_pages"][0]["pages"], [2])
        self.assertEqual((probs["page_conflicts"][0]["named_page"], probs["page_conflicts"][0]["stored_as"]), (3, 4))
        mismatch = probs["page_count_mismatch"][0]
        self.assertEqual((mismatch["catalog_pages"], mismatch["scanned_pages"]), (3, 2))
        # the summary a person reads: no heading contradicts its entries, no raw status code
        self.assertIn("扫描件无对应目录条目（已读入，待挂接）：1", self.run1.stdout)
        self.assertNotIn("未读取）", self.run1.stdout)
        self.assertIn("状态：", self.run1.stdout)
        self.assertNotRegex(self.run1.stdout, r"状态：[A-Za-z_]+")
        self.assertNotRegex(self.run1.stdout, r"(规则|字段代码)：[a-z_]+")
        self.assertEqual({p["status"] for p in probs["unreadable_files"]} - {"invalid", "unsupported", "too_big",
                                                                           "unavailable", "internal", "io"}, set())

    def test_every_page_stored(self):
        for code, item in self.truth["items"].items():
            st, rec, _ = self.d.request("GET", code_path(code))
            self.assertEqual(st, 200, code)
            want = [n for n, t in enumerate(item["pages"], 1) if t is not None]
            self.assertEqual(rec.get("stored_pages"), want, code)

    def test_born_digital_text_exact(self):
        for code, item in self.truth["items"].items():
            if item["ocr"]:
                continue
            for n, text in enumerate(item["pages"], 1):
                st, page, _ = self.d.request("GET", f"{code_path(code)}/pages/{n}")
                self.assertEqual(st, 200)
                self.assertEqual(han(page["text"]), han(text), (code, n, item["format"]))
                self.assertEqual(page["source"], {"text-pdf": "pdf-text", "text": "text", "ofd": "ofd"}[item["format"]])

    def test_phrases_found_in_right_record(self):
        rng = random.Random(7)
        found = tried = crossing = crossing_found = 0
        misses = []
        for code, item in self.truth["items"].items():
            for text in item["pages"]:
                if text is None:
                    continue
                lines = text.split("\n")
                for _ in range(6):
                    if not han(text):
                        break
                    # a phrase running across a line break, and one inside a line
                    k = rng.randrange(len(lines) - 1) if len(lines) > 1 else 0
                    ln = rng.randint(4, 8)
                    if len(lines) > 1 and rng.random() < 0.5:
                        cut = rng.randint(1, ln - 1)
                        phrase = lines[k][-cut:] + lines[k + 1][:ln - cut]
                        cross = True
                    else:
                        start = rng.randrange(max(1, len(lines[k]) - ln))
                        phrase = lines[k][start:start + ln]
                        cross = False
                    if len(han(phrase)) != len(phrase):
                        continue  # punctuation: not a phrase an archivist types
                    st, body, _ = self.d.search(q=f'"{phrase}"', limit=50)
                    self.assertEqual(st, 200)
                    ok = any(h["code"] == code for h in body["hits"])
                    tried += 1
                    found += ok
                    crossing += cross
                    crossing_found += cross and ok
                    if not ok:
                        misses.append((code, phrase))
        print(f"phrases found in the right record: {found}/{tried}; across a line break {crossing_found}/{crossing}")
        self.assertGreaterEqual(tried, 40)
        # OCR is not perfect; a search of the OCR text must still find nearly all
        self.assertGreaterEqual(found / tried, 0.9, misses[:10])

    def test_page_image_and_boxes(self):
        code = next(c for c, i in self.truth["items"].items() if i.get("format") == "jpeg-folder")
        st, img, hdr = self.d.request("GET", f"{code_path(code)}/pages/1/image", raw=True)
        self.assertEqual(st, 200)
        self.assertEqual(hdr["Content-Type"], "image/jpeg")
        self.assertTrue(img.startswith(b"\xff\xd8\xff"))
        st, page, _ = self.d.request("GET", f"{code_path(code)}/pages/1")
        word = han(page["text"])[3:6]
        q = urllib.parse.quote(f'"{word}"')
        st, boxes, _ = self.d.request("GET", f"{code_path(code)}/pages/1/boxes?q={q}")
        self.assertEqual(st, 200)
        self.assertGreaterEqual(len(boxes["boxes"]), 1)
        b = boxes["boxes"][0]
        self.assertEqual(b["term"], word)
        self.assertTrue(0 <= b["x"] < boxes["width"] and 0 <= b["y"] < boxes["height"])
        self.assertTrue(20 < b["w"] < boxes["width"] and 10 < b["h"] < 400, b)
        # measurements kept per page
        for key in ("confidence", "skew", "dpi", "width", "height"):
            self.assertIn(key, page)

    def test_acceptance_report(self):
        self.assertIn("验收报告：", self.run1.stdout)
        st, r, _ = self.d.request("GET", "/api/v1/reports/acceptance?delivery=delivery")
        self.assertEqual(st, 200, r)
        self.assertFalse(r["passed"])
        counts = {c["check"]: c["count"] for c in r["checks"]}
        want = self.truth["problems"]
        for key in ("unreadable_files", "scans_without_catalog_row", "catalog_rows_without_scans",
                    "page_count_mismatch", "low_dpi", "blank_pages", "unrecognised_files", "catalog_rejected",
                    "missing_pages", "page_conflicts"):
            self.assertEqual(counts[key], len(want[key]), key)
        self.assertEqual(counts["skewed"], 0)
        st, raw, hdr = self.d.request("GET", "/api/v1/reports/acceptance?delivery=delivery&format=html", raw=True)
        self.assertEqual(st, 200)
        self.assertIn("验收不通过", raw.decode("utf-8"))
        st, raw, hdr = self.d.request("GET", "/api/v1/reports/acceptance?delivery=delivery&format=csv", raw=True)
        self.assertIn("分辨率低于200dpi,不通过,1", raw.decode("utf-8-sig"))
        st, r, _ = self.d.request("GET", "/api/v1/reports/acceptance")
        self.assertIn("delivery", [x["name"] for x in r["deliveries"]])
        st, r, _ = self.d.request("GET", "/api/v1/reports/acceptance?delivery=nothing")
        self.assertEqual(st, 404)
        st, r, _ = self.d.request("PUT", "/api/v1/deliveries/bad%20name", "{}", "application/json")
        self.assertEqual(st, 400)
        st, r, _ = self.d.request("PUT", "/api/v1/deliveries/x", '{"scans": {}}', "application/json")
        self.assertEqual(st, 400)

    def test_rerun_reads_nothing_again(self):
        r = run_ingest(self.d.base, self.folder)
        self.assertEqual(r.returncode, 3)
        m = re.search(r"本次读取 (\d+) 页", r.stdout)
        self.assertEqual(m.group(1), "0", r.stdout)


def write_delivery(folder, rows, scans):
    """A small delivery of born-digital text scans (no OCR: quick): catalog
    rows as (档号, 题名, 页数) or a raw CSV line, scans as {relative path: text}."""
    os.makedirs(folder)
    with open(os.path.join(folder, "目录.csv"), "wb") as f:
        lines = ["档号,题名,责任者,日期,页数"]
        for r in rows:
            lines.append(r if isinstance(r, str) else f"{r[0]},{r[1]},县扶贫办,20170301,{r[2]}")
        f.write(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    for rel, text in scans.items():
        path = os.path.join(folder, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(text.encode("gb18030"))


def page_text(d, code, n):
    st, page, _ = d.request("GET", f"{code_path(code)}/pages/{n}")
    return page.get("text") if st == 200 else None


class SmallDeliveryTest(unittest.TestCase):
    """Deliveries of text scans against one daemon: names in the catalog's
    lenient spellings, a conflicting delivery, rejected rows, the vendor's
    token, the progress line, the client's messages."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ingest-small-")
        cls.d = Daemon(INDEXD).start()
        cls.env = dict(os.environ, INDEXD_URL=cls.d.base, INDEXD_TOKEN=cls.d.token)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def ingest(self, name, *extra, quiet=True, token=None):
        folder = os.path.join(self.tmp, name)
        args = [INGEST, "--server", self.d.base, "--report", folder + ".report.json"] + (["--quiet"] if quiet else [])
        env = dict(self.env, INDEXD_TOKEN=token or self.d.token)
        p = subprocess.run(args + list(extra) + [folder], capture_output=True, text=True, env=env, timeout=600)
        rep = None
        if os.path.exists(folder + ".report.json"):
            with open(folder + ".report.json", encoding="utf-8") as f:
                rep = json.load(f)
            os.unlink(folder + ".report.json")
        return p, rep

    def test_journal_is_checked_against_the_archive(self):
        """A delivery folder ingested once, then taken (journal and all) to an
        archive that does not hold its pages: they are sent again."""
        code = "Z809-WS·2017-Y-BGS-0001"
        write_delivery(os.path.join(self.tmp, "copied"), [(code, "复制的交付", 1)], {code + ".txt": "随文件夹复制的断点记录"})
        p, rep = self.ingest("copied")
        self.assertEqual((p.returncode, rep["scans"]["pages_read_now"]), (0, 1), p.stderr)
        other = Daemon(INDEXD).start()
        try:
            env = dict(os.environ, INDEXD_URL=other.base, INDEXD_TOKEN=other.token)
            folder = os.path.join(self.tmp, "copied")
            q = subprocess.run([INGEST, "--server", other.base, "--quiet", "--report", folder + ".r2.json", folder],
                               capture_output=True, text=True, env=env, timeout=600)
            self.assertEqual(q.returncode, 0, q.stderr)
            with open(folder + ".r2.json", encoding="utf-8") as f:
                self.assertEqual(json.load(f)["scans"]["pages_read_now"], 1)
            st, body = other.search(q='"随文件夹复制的断点记录"')[:2]
            self.assertEqual([h["code"] for h in body["hits"]], [code])
        finally:
            other.cleanup()
        # the same archive again: nothing to send
        p, rep = self.ingest("copied")
        self.assertEqual(rep["scans"]["pages_read_now"], 0)

    def test_scan_of_a_catalogued_record_not_in_this_catalog_is_held(self):
        """A delivery carries a scan of a record the archive has catalogued,
        which its own catalog does not name: the archive's pages stay."""
        code = "Z810-WS·2017-Y-BGS-0001"
        write_delivery(os.path.join(self.tmp, "held-first"), [(code, "已有的一件", 1)], {code + ".txt": "档案中原有的正文"})
        p, rep = self.ingest("held-first")
        self.assertEqual(p.returncode, 0, p.stderr)
        write_delivery(os.path.join(self.tmp, "stray"), [("Z810-WS·2017-Y-BGS-0002", "本批的一件", 1)],
                       {code + ".txt": "误带来的旧扫描", "Z810-WS·2017-Y-BGS-0002.txt": "本批的正文"})
        p, rep = self.ingest("stray")
        self.assertEqual(p.returncode, 3, p.stderr)
        held = rep["problems"]["scans_held_back"]
        self.assertEqual([x["code"] for x in held], [code])
        self.assertIn("档案中已有此档号的目录条目", held[0]["reason"])
        self.assertNotIn(code, [x["code"] for x in rep["problems"].get("scans_without_catalog_row", [])])
        st, page, _ = self.d.request("GET", "/api/v1/records/" + urllib.parse.quote(code, safe="") + "/pages/1?purpose=%E6%B5%8B%E8%AF%95")
        self.assertEqual(page["text"], "档案中原有的正文")
        # the daemon itself never lets such a page replace one: 409
        st, body, _ = self.d.request("PUT", "/api/v1/records/" + urllib.parse.quote(code, safe="") + "/pages/1?unlinked=x",
                                     "另一段正文", "text/plain")
        self.assertEqual(st, 409, body)

    def test_lenient_names_read_as_the_catalog_reads_them(self):
        codes = [f"Z801-WS·2017-Y-BGS-{n:04d}" for n in range(1, 7)]
        scans = {
            "Z801-WS·2017-Y-BGS-0001.txt": "规范命名的正文",
            "Z801-WS·2017-Y-BGS-2.txt": "件号未补零的正文",                          # 件号 without padding
            "z801-ws·2017-y-bgs-0003.txt": "小写字母的正文",                           # lower case
            "Ｚ８０１－ＷＳ·２０１７－Ｙ－ＢＧＳ－０００４.txt": "全角字符的正文",          # full width
            "Z801-WS-2017-Y-BGS-0005.txt": "以横线代间隔号的正文",                      # '-' for '·'
            "Z801-WS·2017-Y-BGS-6/0001.txt": "文件夹第一页", "Z801-WS·2017-Y-BGS-6/0002.txt": "文件夹第二页",
            "z801-ws·2017-y-0001-2.txt": "两种读法的文件",                             # 机构 0001 件号 2, or page 2
        }
        pages = [1, 1, 1, 1, 1, 2]
        write_delivery(os.path.join(self.tmp, "lenient"), [(c, f"题名{i}", pages[i]) for i, c in enumerate(codes)],
                       scans)
        p, rep = self.ingest("lenient")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        probs = rep["problems"]
        self.assertNotIn("catalog_rows_without_scans", probs)
        self.assertNotIn("scans_without_catalog_row", probs)
        # the name that reads two ways is not guessed at: the vendor renames it
        self.assertEqual([x["file"] for x in probs["unrecognised_files"]], ["z801-ws·2017-y-0001-2.txt"])
        self.assertIn("Z801-WS·2017-Y-0001 的第 2 页", probs["unrecognised_files"][0]["reason"])
        # every lenient name said so once (the folder once): written → 档号
        got = {x["file"]: (x["written"], x["code"]) for x in probs["names_read_leniently"]}
        self.assertEqual(got, {
            "Z801-WS·2017-Y-BGS-2.txt": ("Z801-WS·2017-Y-BGS-2", codes[1]),
            "z801-ws·2017-y-bgs-0003.txt": ("z801-ws·2017-y-bgs-0003", codes[2]),
            "Ｚ８０１－ＷＳ·２０１７－Ｙ－ＢＧＳ－０００４.txt": ("Ｚ８０１－ＷＳ·２０１７－Ｙ－ＢＧＳ－０００４", codes[3]),
            "Z801-WS-2017-Y-BGS-0005.txt": ("Z801-WS-2017-Y-BGS-0005", codes[4]),
            "Z801-WS·2017-Y-BGS-6": ("Z801-WS·2017-Y-BGS-6", codes[5]),
        })
        for x in probs["names_read_leniently"]:
            self.assertEqual(x["rule"], "code_form")
            self.assertRegex(x["reason"], "写法不规范，按 .* 读取")
        self.assertIn("文件名中的档号写法不规范", p.stdout)
        # and read: every row has its pages, found by their text
        self.assertEqual(page_text(self.d, codes[1], 1), "件号未补零的正文")
        self.assertEqual(page_text(self.d, codes[3], 1), "全角字符的正文")
        self.assertEqual(page_text(self.d, codes[5], 2), "文件夹第二页")
        for c, n in zip(codes, pages):
            st, rec, _ = self.d.request("GET", code_path(c))
            self.assertEqual(rec["stored_pages"], list(range(1, n + 1)), c)
        st, body, _ = self.d.search(q='"以横线代间隔号"')
        self.assertEqual([h["code"] for h in body["hits"]], [codes[4]])

    def test_conflicting_delivery_keeps_the_archives_pages(self):
        code, other = "Z803-WS·2017-Y-BGS-0001", "Z803-WS·2017-Y-BGS-0002"
        write_delivery(os.path.join(self.tmp, "first"), [(code, "原题名", 1), (other, "另一件", 1)],
                       {code + ".txt": "档案中原有的正文", other + ".txt": "另一件的正文"})
        p, rep = self.ingest("first")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # a second delivery: the same record with another title and other scans (two pages)
        write_delivery(os.path.join(self.tmp, "second"), [(code, "修订题名", 2), (other, "另一件", 1)],
                       {code + ".txt": "本批次的正文\f本批次的第二页", other + ".txt": "另一件的正文（重扫）"})
        p, rep = self.ingest("second")
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        probs = rep["problems"]
        self.assertEqual([c["code"] for c in probs["catalog_conflicts"]], [code])
        self.assertEqual(probs["catalog_conflicts"][0]["scans_held"], 1)
        held = probs["scans_held_back"]
        self.assertEqual([(x["file"], x["code"]) for x in held], [(code + ".txt", code)])
        self.assertIn("保留档案中的著录和页面", held[0]["reason"])
        self.assertIn("--replace", held[0]["reason"])
        self.assertIn("目录条目冲突、未发送的扫描件", p.stdout)
        # nothing of the archive's changed: row, pages and page count
        st, rec, _ = self.d.request("GET", code_path(code))
        self.assertEqual((rec["title"], rec["stored_pages"]), ("原题名", [1]))
        self.assertEqual(page_text(self.d, code, 1), "档案中原有的正文")
        # the record without a conflict took the delivery's pages
        self.assertEqual(page_text(self.d, other, 1), "另一件的正文（重扫）")
        # --replace takes the delivery's row and its pages
        p, rep = self.ingest("second", "--replace")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn("scans_held_back", rep["problems"])
        st, rec, _ = self.d.request("GET", code_path(code))
        self.assertEqual((rec["title"], rec["stored_pages"]), ("修订题名", [1, 2]))
        self.assertEqual(page_text(self.d, code, 1), "本批次的正文")

    def test_rejected_rows_are_problems(self):
        code = "Z802-WS·2017-Y-BGS-0001"
        write_delivery(os.path.join(self.tmp, "rejected"),
                       [(code, "好的条目", 1), "Z802-WS·2017-Q-BGS-0002,保管期限代码错了,县扶贫办,20170301,1"],
                       {code + ".txt": "正文"})
        p, rep = self.ingest("rejected")
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertEqual(len(rep["problems"]["catalog_rejected"]), 1)
        self.assertIn("目录中不合格、未导入的条目：1", p.stdout)
        self.assertEqual(page_text(self.d, code, 1), "正文")
        # the help says so
        h = subprocess.run([INGEST, "--help"], capture_output=True, text=True)
        self.assertIn("目录中有未导入的条目", h.stdout)

    def test_vendor_token_is_told_who_loads_a_delivery(self):
        code = "Z804-WS·2017-Y-BGS-0001"
        write_delivery(os.path.join(self.tmp, "vendor"), [(code, "厂商交付", 1)], {code + ".txt": "正文"})
        self.d.add_user("ven", "vendor", "vendor-pass-12")
        tok = self.d.make_token("ven")
        p, rep = self.ingest("vendor", token=tok)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("数字化厂商", p.stderr)
        self.assertIn("档案员或管理员的令牌", p.stderr)
        self.assertIn("INDEXD_TOKEN", p.stderr)
        st, _, _ = self.d.request("GET", code_path(code))
        self.assertEqual(st, 404)
        h = subprocess.run([INGEST, "--help"], capture_output=True, text=True)
        self.assertIn("档案员或管理员", h.stdout)

    def test_progress_shows_no_rate_of_nothing(self):
        code = "Z805-WS·2017-Y-BGS-0001"
        write_delivery(os.path.join(self.tmp, "progress"), [(code, "进度", 1)], {code + ".txt": "正文"})
        p, _ = self.ingest("progress", quiet=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # run again: nothing to read, and no "每分钟 0 页"
        p, _ = self.ingest("progress", quiet=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("页 1/1", p.stderr)
        self.assertNotRegex(p.stderr, r"每分钟 0(\.0)? 页")

    def test_unlinked_hits_marked_in_query_search(self):
        code = "Z806-WS·2017-Y-BGS-0001"
        write_delivery(os.path.join(self.tmp, "unlinked"), [("Z806-WS·2017-Y-BGS-0002", "有目录的一件", 1)],
                       {code + ".txt": "易地搬迁安置协议正文", "Z806-WS·2017-Y-BGS-0002.txt": "有目录的正文"})
        p, _ = self.ingest("unlinked")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        r = subprocess.run([QUERY, "search", "易地搬迁安置"], capture_output=True, text=True, env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{code}  【待挂接】\n", r.stdout)
        self.assertIn(f"题名      {code}（未著录题名）\n", r.stdout)

    def test_client_system_errors_in_chinese(self):
        missing = os.path.join(self.tmp, "无此文件.csv")
        r = subprocess.run([QUERY, "import", missing], capture_output=True, text=True, env=self.env)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("文件或文件夹不存在", r.stderr)
        self.assertNotIn("No such file", r.stderr)
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty)
        r = subprocess.run([INGEST, "--server", self.d.base, "--quiet", "--catalog", missing, empty],
                           capture_output=True, text=True, env=self.env)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("文件或文件夹不存在", r.stderr)
        self.assertNotIn("No such file", r.stderr)


class ResumeTest(unittest.TestCase):
    def test_kill9_and_resume(self):
        tmp = tempfile.mkdtemp(prefix="ingest-kill-")
        try:
            folder = os.path.join(tmp, "delivery")
            truth = make_delivery(folder, items=6, problems=False, seed=3, lines=4, pages=3)
            d = Daemon(INDEXD).start()
            try:
                rng = random.Random(11)
                kills = 0
                for _ in range(6):
                    p = subprocess.Popen([INGEST, "--server", d.base, "--quiet", folder],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(rng.uniform(0.3, 2.5))
                    if p.poll() is not None:
                        break
                    p.send_signal(signal.SIGKILL)  # its readers follow it (PR_SET_PDEATHSIG)
                    p.wait()
                    kills += 1
                r = run_ingest(d.base, folder)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                print(f"killed {kills} times, then finished")
                for code, item in truth["items"].items():
                    st, rec, _ = d.request("GET", code_path(code))
                    self.assertEqual(rec["stored_pages"], list(range(1, len(item["pages"]) + 1)), code)
                    for n, text in enumerate(item["pages"], 1):
                        st, page, _ = d.request("GET", f"{code_path(code)}/pages/{n}")
                        self.assertEqual(st, 200)
                        self.assertEqual(page["file_page"], n if item["format"] != "jpeg-folder" and
                                         item["format"] != "jpeg-flat" else 1)
                # a changed file is read again
                txt = next(c for c, i in truth["items"].items() if i["format"] == "text")
                path = os.path.join(folder, txt + ".txt")
                with open(path, "wb") as f:
                    f.write("更改后的文本\f第二页".encode("gb18030"))
                r = run_ingest(d.base, folder)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn("本次读取 2 页", r.stdout)
                st, page, _ = d.request("GET", f"{code_path(txt)}/pages/1")
                self.assertEqual(page["text"], "更改后的文本")
            finally:
                d.cleanup()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
