"""Everything a person reads is in Chinese.  A delivery full of irregularities
(the realistic catalog of test_catalog, damaged and unknown scans, a scan no
row names, a conflicting row) goes through ingest, the command-line client
and the daemon's reports and errors; every line and every sentence they give
a person is searched for English sentences.  JSON keys and stable codes
(`rule`, `key`, `status`) are not sentences and pass."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, code_path  # noqa: E402
from test_catalog import HEAD, ROWS, ITEMS  # noqa: E402

INDEXD = os.environ.get("INDEXD", "build/indexd/indexd")
INGEST = os.environ.get("INGEST", "build/ocr/ingest")
QUERY = os.environ.get("QUERY", "build/query/query")

# Three English words in a row, each of two letters or more with lower case
# after the first: "the file ends", "Out of memory".  Codes (date_form),
# formats (UTF-8, GB18030, CSV, dpi alone), 档号 and paths do not match.
SENTENCE = re.compile(r"(?<![A-Za-z_./-])[A-Za-z][a-z]+(?:[ ,;:'()]+[A-Za-z][a-z]+){2,}(?![A-Za-z_/])")


# Commands a person types are not sentences: `indexd users token`.
COMMAND = re.compile(r"\b(?:indexd|query|ingest)(?: [a-z][a-z-]*){1,2}\b")


def english(text):
    return [m.group(0) for m in SENTENCE.finditer(COMMAND.sub(" ", text))]


def strings(x, path="$"):
    """Every string value of a JSON document with where it is (keys skipped)."""
    if isinstance(x, dict):
        for k, v in x.items():
            yield from strings(v, f"{path}.{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from strings(v, f"{path}[{i}]")
    elif isinstance(x, str):
        yield path, x


class ChineseTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="chinese-test-")
        cls.found = []  # (where, English found)
        folder = cls.folder = os.path.join(cls.tmp, "第一批交付")
        os.makedirs(folder)
        text = "\r\n".join([HEAD] + [r[1] for r in ROWS]) + "\r\n"
        with open(os.path.join(folder, "目录.csv"), "wb") as f:
            f.write(text.encode("gb18030"))
        for i, code in enumerate(ITEMS):
            with open(os.path.join(folder, code + ".txt"), "wb") as f:
                f.write(f"第{i + 1}号文件正文".encode("gb18030"))
        # a scan that cannot be decoded, one of no known type, an empty one,
        # and one that no catalog row names
        with open(os.path.join(folder, ITEMS[0] + "-0002.jpg"), "wb") as f:
            f.write(b"\xff\xd8\xff\xe0" + b"\x00" * 40)
        with open(os.path.join(folder, "说明.docx"), "wb") as f:
            f.write(b"PK\x03\x04" + b"\x00" * 40)
        open(os.path.join(folder, ITEMS[1] + "-0002.txt"), "wb").close()
        with open(os.path.join(folder, "Z061-WS·2017-Y-FPB-0099.txt"), "wb") as f:
            f.write("目录中没有的文件".encode("gb18030"))
        cls.d = Daemon(INDEXD).start()
        cls.env = dict(os.environ, INDEXD_URL=cls.d.base)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def check_text(self, where, text):
        bad = english(text)
        if bad:
            self.found.append((where, bad[:3]))

    def check_json(self, where, doc):
        for path, s in strings(doc):
            self.check_text(f"{where} {path}", s)

    def run_cmd(self, where, args, stdin=None):
        p = subprocess.run(args, capture_output=True, env=self.env, input=stdin, timeout=600)
        out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        self.check_text(where + " (stdout)", out)
        self.check_text(where + " (stderr)", err)
        return p.returncode, out, err

    def test_all_a_person_reads(self):
        report = os.path.join(self.tmp, "report.json")
        # the vendor's ingest, as it prints on a terminal, and its report
        rc, out, err = self.run_cmd("ingest", [INGEST, "--server", self.d.base, "--report", report, self.folder])
        self.assertIn(rc, (0, 3), err)
        self.assertTrue(out.strip() or err.strip(), "ingest printed nothing")
        with open(report, encoding="utf-8") as f:
            self.check_json("ingest --report", json.load(f))
        rc, out, err = self.run_cmd("ingest --help", [INGEST, "--help"])
        rc, out, err = self.run_cmd("ingest, no folder", [INGEST, "--server", self.d.base, os.path.join(self.tmp, "无此文件夹")])
        self.assertNotEqual(rc, 0)
        # a conflicting row through the command-line client
        conflict = os.path.join(self.tmp, "conflict.csv")
        with open(conflict, "wb") as f:
            f.write(("档号,题名,责任者,日期,页数\r\n" + ITEMS[0] + ",另一个题名,县扶贫办,20170307,9\r\n").encode("gb18030"))
        rc, out, err = self.run_cmd("query import (conflict)", [QUERY, "import", conflict])
        self.assertEqual(rc, 3, out + err)
        rc, out, err = self.run_cmd("query import (our catalog)", [QUERY, "import", os.path.join(self.folder, "目录.csv")])
        # catalogs that cannot be read as a whole
        for name, data in (("no-code.csv", "题名,日期\r\n通知,20170101\r\n".encode("gb18030")),
                           ("empty.csv", b""),
                           ("binary.csv", bytes(range(256)) * 4),
                           ("header-quote.csv", '档号,"题名\r\n'.encode("utf-8"))):
            path = os.path.join(self.tmp, name)
            with open(path, "wb") as f:
                f.write(data)
            rc, out, err = self.run_cmd(f"query import {name}", [QUERY, "import", path])
            self.assertNotEqual(rc, 0, name)
            st, body, _ = self.d.request("POST", "/api/v1/catalog", body=data, ctype="text/csv")
            self.assertGreaterEqual(st, 400, name)
            self.check_json(f"POST /api/v1/catalog {name}", body)
        # the reports, as text and as the JSON and HTML a person reads
        for rep in ("coverage", "catalog", "ledger", "acceptance", "register"):
            self.run_cmd(f"query report {rep}", [QUERY, "report", rep])
        for rep in ("coverage", "catalog", "ledger", "acceptance"):
            st, body, _ = self.d.request("GET", f"/api/v1/reports/{rep}")
            self.check_json(f"GET reports/{rep}", body)
            st, html, _ = self.d.request("GET", f"/api/v1/reports/{rep}?format=html", raw=True)
            self.check_text(f"GET reports/{rep} html", re.sub(r"<(style|script)[^>]*>.*?</\1>|<[^>]+>", " ",
                                                              html.decode("utf-8"), flags=re.S))
        # records, search and the errors a person meets
        self.run_cmd("query get", [QUERY, "get", ITEMS[0]])
        self.run_cmd("query search", [QUERY, "search", '"第1号文件"'])
        self.run_cmd("query get (absent)", [QUERY, "get", "Z061-WS·2017-Y-FPB-0777"])
        self.run_cmd("query get (not a 档号)", [QUERY, "get", "不是档号"])
        self.run_cmd("query search (bad syntax)", [QUERY, "search", "题名:(((", "AND"])
        self.run_cmd("query (unknown command)", [QUERY, "frobnicate"])
        self.run_cmd("query --help", [QUERY, "--help"])
        self.run_cmd("query, no daemon", [QUERY, "--server", "http://127.0.0.1:9", "health"])
        env = dict(self.env, INDEXD_TOKEN="wrong")
        p = subprocess.run([QUERY, "search", "扶贫"], capture_output=True, env=env, timeout=60)
        self.check_text("query (refused token)", p.stderr.decode("utf-8", "replace") + p.stdout.decode("utf-8", "replace"))
        st, body, _ = self.d.request("GET", code_path(ITEMS[0]))
        self.check_json("GET record", body)
        for path in ("/api/v1/search?q=" + "%28" * 3, "/api/v1/records/nothing", "/api/v1/nowhere",
                     "/api/v1/reports/acceptance?delivery=none"):
            st, body, _ = self.d.request("GET", path, raw=True)
            self.assertGreaterEqual(st, 400, path)
            self.check_text(f"GET {path}", body.decode("utf-8", "replace"))
        st, body, _ = self.d.request("GET", "/api/v1/search?q=x", raw=True, token=None)
        self.check_text("GET search without a login", body.decode("utf-8", "replace"))
        self.assertEqual(self.found, [], "English where a person reads:\n" +
                         "\n".join(f"  {w}: {b}" for w, b in self.found))

    def test_detector(self):
        """The check itself finds English and passes codes and formats."""
        self.assertTrue(english("line 3: the file ends inside it"))
        self.assertTrue(english("Out of memory"))
        self.assertEqual(english("规则 date_form，编码 UTF-8 (GB18030)，档号 Z061-WS·2017-Y-FPB-0001，300 dpi"), [])
        self.assertEqual(english("/tmp/chinese-test-x/第一批交付/目录.csv"), [])
        self.assertEqual(english("请用 indexd users token 用户名 生成令牌"), [])


if __name__ == "__main__":
    unittest.main()
