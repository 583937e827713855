"""Integration tests: every endpoint of the real daemon over HTTP on a
loopback port, good and bad requests; the daemon keeps serving after each
bad one; SIGTERM finishes and commits."""
import http.client
import json
import os
import signal
import socket
import struct
import sys
import threading
import unittest
import urllib.parse
import zlib

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, code_path  # noqa: E402

EXE = os.environ.get("INDEXD", "build/indexd/indexd")

# A 2 x 2 white JPEG (baseline, greyscale).
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d"
    "1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080002000201011100ffc4001f000001050101"
    "0101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d010203000411051221314106"
    "13516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455"
    "565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9ba"
    "c2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00f7faffd9")


def png_gray(w, h):
    """A white 8-bit grey PNG of w x h, compressed row by row (a 12000 x
    12000 one is 170 KB)."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    co, row = zlib.compressobj(9), b"\0" + b"\xff" * w
    idat = b"".join(co.compress(row) for _ in range(h)) + co.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", idat) + chunk(b"IEND", b""))

CATALOG = (
    "\ufeff档号,题名,责任者,文号,日期,页数,密级,载体,存放位置,备注\n"
    "Z031-WS·2017-Y-BGS-0001,关于开展精准扶贫工作的通知,县扶贫办,扶办发〔2017〕1号,20170305,3,,纸质,1号库-3列-2节-4层-015盒,\n"
    "Z031-WS·2017-Y-BGS-0002,贫困户脱贫审核表,县扶贫办,,20170306,2,内部,纸质,1号库-3列-2节-4层-016盒,\n"
    "Z031-WS·2018-D30-BGS-0001,易地扶贫搬迁项目验收报告,县发改局,,20180704,12,,纸质,1号库-4列-1节-1层-001盒,\n"
    "Z031-WS·2018-D30-BGS-0002,日期不规范,县发改局,,2018-07-05,1,,纸质,,\n"
)


class HttpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(EXE).start()
        st, body, _ = cls.d.request("POST", "/api/v1/catalog", CATALOG, "text/csv")
        assert st == 200, body
        cls.import_answer = body

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def assertServing(self):
        st, body, _ = self.d.request("GET", "/healthz")
        self.assertEqual(st, 200)
        self.assertEqual(body["status"], "ok")

    def assertError(self, st, body, http, status, **fields):
        self.assertEqual(st, http, body)
        self.assertEqual(body["error"]["status"], status, body)
        for k, v in fields.items():
            self.assertEqual(body["error"].get(k), v, body)
        self.assertServing()

    def raw(self, method, path, length, ctype):
        """Announce a body of `length` bytes, send none, read the answer."""
        host, port = self.d.base.split("//")[1].split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
                      f"Authorization: Bearer {self.d.token}\r\nContent-Length: {length}\r\n\r\n".encode())
            answer = b""
            while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < 10:
                part = s.recv(65536)
                if not part:
                    break
                answer += part
        head, body = answer.split(b"\r\n\r\n", 1)
        return int(head.split()[1]), json.loads(body.decode("utf-8"))

    def test_healthz(self):
        st, body, _ = self.d.request("GET", "/healthz")
        self.assertEqual(st, 200)
        self.assertGreaterEqual(body["records"], 3)
        st, body, hdr = self.d.request("POST", "/healthz", "")
        self.assertError(st, body, 405, "method")
        self.assertEqual(hdr["Allow"], "GET, HEAD")

    def test_catalog_answer(self):
        a = self.import_answer
        # every row is kept: a date as people write it is read and recorded
        self.assertEqual(a["imported"], 4)
        self.assertEqual(a["encoding"], "utf-8-bom")
        self.assertEqual(a["rejected"], [])
        self.assertEqual([(f["line"], f["rule"], f["field"], f["written"], f["understood"]) for f in a["findings"]],
                         [(5, "date_form", "日期", "2018-07-05", "20180705")])

    def test_catalog_gb18030_and_replace(self):
        csv = ("档号,题名,责任者,日期\n"
               "Z031-WS·2019-Y-BGS-0001,帮扶措施证明,乡政府,20190101\n").encode("gb18030")
        st, body, _ = self.d.request("POST", "/api/v1/catalog", csv, "text/csv")
        self.assertEqual(st, 200, body)
        self.assertEqual((body["imported"], body["replaced"], body["encoding"]), (1, 0, "gb18030"))
        # the same row again changes nothing: imported, none replaced
        st, body, _ = self.d.request("POST", "/api/v1/catalog", csv, "text/csv")
        self.assertEqual((body["imported"], body["replaced"], body["conflicts_count"]), (1, 0, 0))
        st, body = self.d.search(q='"帮扶措施证明"')[:2]
        self.assertEqual(body["total"], 1)

    def test_catalog_bad(self):
        st, body, _ = self.d.request("POST", "/api/v1/catalog", b"\xff\xfe\xfa\x80\x81\n\xff", "text/csv")
        self.assertEqual(st, 400)
        self.assertIn(body["error"]["status"], ("encoding", "invalid"))
        self.assertServing()
        st, body, _ = self.d.request("POST", "/api/v1/catalog", "题名\n通知\n", "text/csv")
        self.assertError(st, body, 400, "invalid", line=1)
        self.assertIn("档号", body["error"]["message"])
        st, body, _ = self.d.request("GET", "/api/v1/catalog")
        self.assertError(st, body, 405, "method")

    def test_record_get(self):
        st, body, _ = self.d.request("GET", code_path("Z031-WS·2017-Y-BGS-0001"))
        self.assertEqual(st, 200)
        self.assertEqual(body["code"], "Z031-WS·2017-Y-BGS-0001")
        self.assertEqual(body["location"], "1号库-3列-2节-4层-015盒")
        self.assertEqual(body["year"], 2017)
        self.assertEqual(body["retention"], "Y")
        self.assertEqual(body["doc_no"], "扶办发〔2017〕1号")
        # look-alike separators are accepted in the path
        st, body2, _ = self.d.request("GET", code_path("Z031-WS.2017-Y-BGS-0001"))
        self.assertEqual(body2["code"], body["code"])
        st, body, _ = self.d.request("GET", code_path("Z031-WS·2017-Y-BGS-0999"))
        self.assertError(st, body, 404, "not_found")
        st, body, _ = self.d.request("GET", code_path("Z031-WS2017-Y-BGS-0001"))
        self.assertError(st, body, 400, "invalid", param="code")
        st, body, _ = self.d.request("GET", "/api/v1/records/%FF%FE")
        self.assertError(st, body, 400, "encoding")

    def test_record_put_delete(self):
        path = code_path("Z031-KJ·2020-Y-0001")
        st, body, _ = self.d.request("PUT", path, json.dumps({"title": "产业扶贫项目", "date": "20200101"}), "application/json")
        self.assertEqual(st, 201, body)
        self.assertFalse(body["replaced"])
        st, body, _ = self.d.request("PUT", path, json.dumps({"title": "产业扶贫项目（二）", "date": "20200102"}))
        self.assertEqual(st, 200)
        self.assertTrue(body["replaced"])
        st, body, _ = self.d.request("PUT", path, json.dumps({"code": "Z031-KJ·2020-Y-0002", "title": "x"}))
        self.assertError(st, body, 400, "invalid", field="code")
        st, body, _ = self.d.request("PUT", path, json.dumps({"title": "x", "date": "2020"}))
        self.assertError(st, body, 400, "invalid", field="date")
        st, body, _ = self.d.request("PUT", path, json.dumps({"title": "x", "colour": "red"}))
        self.assertError(st, body, 400, "invalid")
        self.assertIn("colour", body["error"]["message"])
        st, body, _ = self.d.request("PUT", path, '{"title": "unterminated')
        self.assertError(st, body, 400, "invalid", param="body")
        st, body, _ = self.d.request("PUT", path, "[1,2]")
        self.assertError(st, body, 400, "invalid")
        st, body, _ = self.d.request("DELETE", path)
        self.assertEqual((st, body["deleted"]), (200, True))
        st, body, _ = self.d.request("DELETE", path)
        self.assertError(st, body, 404, "not_found")
        st, body, _ = self.d.request("PATCH", path, "{}")
        self.assertError(st, body, 405, "method")

    def test_pages(self):
        code = "Z031-WS·2018-D30-BGS-0001"
        p = code_path(code) + "/pages/2"
        text = "经验收，易地扶贫搬\n迁项目已完工。身份证号码略。"
        st, body, _ = self.d.request("PUT", p, json.dumps({"text": text, "confidence": 93.5, "dpi": 300}), "application/json")
        self.assertEqual(st, 201, body)
        st, body, _ = self.d.request("GET", p)
        self.assertEqual(st, 200)
        self.assertEqual(body["text"], text)
        self.assertEqual(body["confidence"], 93.5)
        self.assertEqual(body["page"], 2)
        st, body, _ = self.d.request("PUT", code_path(code) + "/pages/3", "第三页：验收组签字。", "text/plain; charset=utf-8")
        self.assertEqual(st, 201, body)
        st, body, _ = self.d.request("GET", code_path(code))
        self.assertEqual(body["stored_pages"], [2, 3])
        st, body = self.d.search(q='"易地扶贫搬迁项目"')[:2]
        hit = [h for h in body["hits"] if h["code"] == code][0]
        self.assertEqual(hit["pages"], [2])
        self.assertIn("<mark>", hit["snippet"])
        # bad pages
        st, body, _ = self.d.request("GET", code_path(code) + "/pages/9")
        self.assertError(st, body, 404, "not_found", param="page")
        st, body, _ = self.d.request("PUT", code_path(code) + "/pages/0", json.dumps({"text": "x"}))
        self.assertError(st, body, 400, "invalid", param="page")
        st, body, _ = self.d.request("PUT", code_path(code) + "/pages/x1", json.dumps({"text": "x"}))
        self.assertError(st, body, 400, "invalid", param="page")
        st, body, _ = self.d.request("PUT", code_path(code) + "/pages/1", json.dumps({"txt": "x"}))
        self.assertError(st, body, 400, "invalid", field="text")
        st, body, _ = self.d.request("PUT", code_path("Z031-WS·2018-D30-BGS-0999") + "/pages/1", json.dumps({"text": "x"}))
        self.assertError(st, body, 404, "not_found")
        # over the route's limit: refused before the body is read (a raw
        # socket, as a client that writes the whole body first is cut off)
        st, body = self.raw("PUT", code_path(code) + "/pages/1", (1 << 20) + 1, "text/plain")
        self.assertError(st, body, 413, "too_big")
        st, body, _ = self.d.request("PUT", code_path(code) + "/pages/1", b"\xff\xfe", "text/plain")
        self.assertError(st, body, 400, "encoding")

    def test_catalog_list(self):
        csv = "档号,题名,责任者,日期,页数\nZ031-WS·2016-Y-BGS-0001,列表,县扶贫办,20160101,4\nZ031-WS·2016-Y-BGS-0002,没有页数,县扶贫办,20160102,\n"
        st, body, _ = self.d.request("POST", "/api/v1/catalog?list=1", csv, "text/csv")
        self.assertEqual(st, 200, body)
        self.assertEqual(body["records"], [{"code": "Z031-WS·2016-Y-BGS-0001", "line": 2, "pages": 4},
                                           {"code": "Z031-WS·2016-Y-BGS-0002", "line": 3}])
        st, body, _ = self.d.request("POST", "/api/v1/catalog", csv, "text/csv")
        self.assertNotIn("records", body)

    def test_page_image_and_boxes(self):
        code = "Z031-WS·2017-Y-BGS-0001"
        base = code_path(code) + "/pages/1"
        page = {"text": "精准扶贫\n档案", "width": 1000, "height": 800,
                "boxes": [[100, 100, 40, 50, 0], [140, 100, 40, 50, 3], [180, 100, 40, 50, 6],
                          [220, 100, 40, 50, 9], [100, 160, 40, 50, 13], [140, 160, 40, 50, 16]]}
        st, body, _ = self.d.request("PUT", base, json.dumps(page), "application/json")
        self.assertIn(st, (200, 201), body)
        jpeg = JPEG
        st, body, _ = self.d.request("PUT", base + "/image", jpeg, "image/jpeg")
        self.assertEqual(st, 200, body)
        self.assertEqual(body["bytes"], len(jpeg))
        st, raw, hdr = self.d.request("GET", base + "/image", raw=True)
        self.assertEqual((st, raw, hdr["Content-Type"]), (200, jpeg, "image/jpeg"))
        png = png_gray(4, 3)
        st, body, _ = self.d.request("PUT", base + "/image", png, "image/png")
        self.assertEqual(st, 200, body)
        st, raw, hdr = self.d.request("GET", base + "/image", raw=True)
        self.assertEqual((raw, hdr["Content-Type"]), (png, "image/png"))  # the JPEG is gone
        # a phrase across the line break: one box per line
        st, body, _ = self.d.request("GET", base + "/boxes?q=" + urllib.parse.quote('"贫档"'))
        self.assertEqual(st, 200, body)
        self.assertEqual((body["width"], body["height"]), (1000, 800))
        self.assertEqual([(b["x"], b["y"], b["w"], b["h"]) for b in body["boxes"]], [(220, 100, 40, 50), (100, 160, 40, 50)])
        st, body, _ = self.d.request("GET", base + "/boxes?q=" + urllib.parse.quote("扶贫 题名:档案"))
        self.assertEqual([(b["x"], b["w"], b["term"]) for b in body["boxes"]], [(180, 80, "扶贫")])
        st, body, _ = self.d.request("GET", base + "/boxes?q=" + urllib.parse.quote("无此词"))
        self.assertEqual(body["boxes"], [])
        # bad requests
        st, body, _ = self.d.request("PUT", base + "/image", b"GIF89a....", "image/gif")
        self.assertError(st, body, 415, "unsupported")
        # the first bytes of an image are not an image; a decompression bomb is refused from its header
        for fake in (b"\xff\xd8\xff<script>alert(1)</script>", JPEG[:120], png[:-20]):
            st, body, _ = self.d.request("PUT", base + "/image", fake, "image/jpeg")
            self.assertError(st, body, 415, "unsupported")
        st, body, _ = self.d.request("PUT", base + "/image", png_gray(12000, 12000), "image/png")
        self.assertError(st, body, 413, "too_big")
        self.assertIn("12000 x 12000", body["error"]["message"])
        st, raw, hdr = self.d.request("GET", base + "/image", raw=True)
        self.assertEqual(raw, png)  # still the last good one
        st, body, _ = self.d.request("PUT", code_path("Z031-WS·2017-Y-BGS-0999") + "/pages/1/image", jpeg, "image/jpeg")
        self.assertError(st, body, 404, "not_found")
        st, body, _ = self.d.request("GET", code_path(code) + "/pages/7/image")
        self.assertError(st, body, 404, "not_found", param="page")
        st, body, _ = self.d.request("GET", base + "/boxes")
        self.assertError(st, body, 400, "invalid", param="q")
        st, body, _ = self.d.request("GET", base + "/boxes?q=" + urllib.parse.quote('"open'))
        self.assertError(st, body, 400, "bad_query", param="q")
        st, body, _ = self.d.request("DELETE", base + "/image")
        self.assertError(st, body, 405, "method")
        st, body, _ = self.d.request("GET", base + "/thumbnail")
        self.assertError(st, body, 404, "not_found")
        self.assertServing()

    def test_bulk(self):
        lines = [
            json.dumps({"code": "Z040-WS·2016-Y-0001", "title": "分户档案：张某某", "date": "20160101",
                        "page_texts": [{"n": 1, "text": "贫困户申请书：因病致贫。"}, {"n": 2, "text": "扶贫手册"}]}),
            "",
            json.dumps({"code": "Z040-WS·2016-Y-0002", "title": "分户档案：李某某", "date": "20160102"}),
            "{not json",
            json.dumps({"code": "Z040-WS·2016-Y-003", "title": "bad code"}),
            json.dumps({"code": "Z040-WS·2016-Y-0004", "title": "bad pages", "page_texts": [{"n": 0, "text": "x"}]}),
            json.dumps([1, 2]),
        ]
        st, body, _ = self.d.request("POST", "/api/v1/records", "\n".join(lines) + "\n", "application/x-ndjson")
        self.assertEqual(st, 200, body)
        self.assertEqual(body["imported"], 2)
        self.assertEqual([r["line"] for r in body["rejected"]], [4, 5, 6, 7])
        self.assertEqual(body["rejected"][1]["key"], "code")
        st, body = self.d.search(q='"因病致贫"')[:2]
        self.assertEqual([h["code"] for h in body["hits"]], ["Z040-WS·2016-Y-0001"])
        self.assertEqual(body["hits"][0]["pages"], [1])

    def test_bulk_deferred_commit(self):
        line = json.dumps({"code": "Z041-WS·2016-Y-0001", "title": "延迟提交", "date": "20160101"})
        st, body, _ = self.d.request("POST", "/api/v1/records?commit=0", line + "\n", "application/x-ndjson")
        self.assertEqual((st, body["imported"]), (200, 1))
        import time
        for _ in range(100):  # committed once the writes stop (commit_delay_ms)
            st, body, _ = self.d.request("GET", code_path("Z041-WS·2016-Y-0001"))
            if st == 200:
                break
            time.sleep(0.05)
        self.assertEqual(st, 200)
        self.assertEqual(body["title"], "延迟提交")

    def test_search(self):
        st, body = self.d.search(q="精准扶贫")[:2]
        self.assertEqual(st, 200)
        self.assertIn("Z031-WS·2017-Y-BGS-0001", [h["code"] for h in body["hits"]])
        for k in ("total", "total_exact", "took_ms", "hits", "facets", "facets_complete"):
            self.assertIn(k, body)
        h = body["hits"][0]
        for k in ("code", "title", "location", "pages", "snippet", "exact", "date"):
            self.assertIn(k, h)
        st, body = self.d.search(q='题名:"脱贫审核"', year="2017")[:2]
        self.assertEqual([h["code"] for h in body["hits"]], ["Z031-WS·2017-Y-BGS-0002"])
        st, body = self.d.search(q="扶贫", year=["2017", "2018"], sort="-date", limit="1")[:2]
        self.assertEqual(body["limit"], 1)
        self.assertEqual(len(body["hits"]), 1)
        self.assertEqual(body["hits"][0]["date"], "20180704")
        st, body = self.d.search(q="年度:2018..2018 扶贫")[:2]
        self.assertTrue(all(h["year"] == 2018 for h in body["hits"]))
        st, body = self.d.search(retention="30年")[:2]
        self.assertTrue(body["total"] >= 1 and all(h["retention"] == "D30" for h in body["hits"]))
        st, body = self.d.search(q="扶贫", facets="0")[:2]
        self.assertNotIn("facets", body)
        st, body = self.d.search(q="<script>")[:2]
        self.assertEqual(st, 200)

    def test_search_bad(self):
        st, body = self.d.search(q='"未闭合')[:2]
        self.assertError(st, body, 400, "bad_query", param="q", offset=1)
        st, body = self.d.search(q="作者:张三")[:2]
        self.assertError(st, body, 400, "bad_query", param="q")
        for params, param in [({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"),
                              ({"offset": "-1"}, "offset"), ({"sort": "title"}, "sort"),
                              ({"year": "17"}, "year"), ({"year_from": "abcd"}, "year_from"),
                              ({"retention": "长期"}, "retention"), ({"facets": "2"}, "facets"),
                              ({"year": ["2017"] * 17}, "year")]:
            st, body = self.d.search(**params)[:2]
            self.assertError(st, body, 400, "invalid", param=param)
        st, body, _ = self.d.request("GET", "/api/v1/search?q=%FF")
        self.assertError(st, body, 400, "encoding", param="q")

    def test_unknown_routes(self):
        for path in ("/api/v1/nothing", "/api/v2/search", "/api/v1/records/Z031-WS·2017-Y-BGS-0001/x/y", "/../etc/passwd"):
            st, body, _ = self.d.request("GET", path.replace("·", "%C2%B7"))
            self.assertError(st, body, 404, "not_found")

    def test_body_limit_and_garbage(self):
        d = Daemon(EXE, extra=["--max-body-mb", "1"]).start()
        try:
            host, port = d.base.split("//")[1].split(":")
            # announced too big: refused before the body is read
            s = socket.create_connection((host, int(port)), timeout=10)
            s.sendall(b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n"
                      b"Authorization: Bearer " + d.token.encode() + b"\r\n\r\n" + b"x" * 1000)
            answer = s.recv(65536).decode("utf-8", "replace")
            s.close()
            self.assertIn("413", answer.split("\r\n")[0])
            self.assertIn('"too_big"', answer)
            # chunked, no length announced: refused once the limit is passed
            c = http.client.HTTPConnection(host, int(port), timeout=30)
            c.request("POST", "/api/v1/records", body=(b"x" * 65536 for _ in range(40)),
                      headers={"Content-Type": "application/x-ndjson", "Authorization": "Bearer " + d.token},
                      encode_chunked=True)
            r = c.getresponse()
            self.assertEqual(r.status, 413)
            self.assertEqual(json.loads(r.read())["error"]["status"], "too_big")
            c.close()
            # raw garbage on the socket does not take the daemon down
            for junk in (b"GET /" + b"A" * 100000 + b" HTTP/1.1\r\n\r\n",
                         b"POST /api/v1/records HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n"):
                s = socket.create_connection((host, int(port)), timeout=10)
                s.sendall(junk)
                self.assertRegex(s.recv(4096), rb"^HTTP/1.1 4(01|04|13|14)")  # an answer, not a hang
                s.close()
            # a connection left open with a broken request line holds no worker
            idle = socket.create_connection((host, int(port)), timeout=10)
            idle.sendall(b"\x00\x01\x02\r\n\r\n")
            st, body, _ = d.request("GET", "/healthz")
            self.assertEqual(st, 200)
            idle.close()
        finally:
            d.cleanup()


class ShutdownTest(unittest.TestCase):
    def test_sigterm_finishes_and_commits(self):
        d = Daemon(EXE).start()
        try:
            n = 3000
            body = "\n".join(json.dumps({"code": f"Z050-WS·2017-Y-{i:04d}", "title": f"第{i}号文件 精准扶贫",
                                         "date": "20170101", "page_texts": [{"n": 1, "text": "扶贫政策落实情况" * 20}]})
                             for i in range(1, n + 1))
            result = {}

            def load():
                host, port = d.base.split("//")[1].split(":")
                c = http.client.HTTPConnection(host, int(port), timeout=120)
                c.request("POST", "/api/v1/records", body.encode("utf-8"), {"Content-Type": "application/x-ndjson",
                                                                             "Authorization": "Bearer " + d.token})
                r = c.getresponse()
                result["status"] = r.status
                result["body"] = json.loads(r.read())

            t = threading.Thread(target=load)
            t.start()
            import time
            for _ in range(200):  # wait until the request is being processed
                time.sleep(0.01)
            d.proc.send_signal(signal.SIGTERM)
            t.join(120)
            rc = d.stop()
            self.assertEqual(rc, 0)
            self.assertEqual(result.get("status"), 200, result)
            self.assertEqual(result["body"]["imported"], n)
            d.start()
            st, h, _ = d.request("GET", "/healthz")
            self.assertEqual(h["records"], n)
            st, body = d.search(q='"精准扶贫"', limit="1")[:2]
            self.assertEqual(body["total"], n)
        finally:
            d.cleanup()

    def test_bad_config(self):
        import subprocess
        r = subprocess.run([EXE, "--port", "70000"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("port", r.stderr)
        r = subprocess.run([EXE, "--colour", "red"], capture_output=True, text=True)
        self.assertIn("没有配置项“colour”", r.stderr)
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            f.write('{"threads": 4, "log_level": "loud"}')
            f.flush()
            r = subprocess.run([EXE, "--config", f.name], capture_output=True, text=True)
            self.assertEqual(r.returncode, 2)
            self.assertIn("log_level", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
