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
