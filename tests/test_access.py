"""Access control and the use register against the real daemon: every route
refuses an unauthenticated caller; each role gets exactly what it should;
browser sessions (cookie flags, CSRF, logout, kept across a restart, ended
with the tokens by any change of the user); failed-login limiting per (name,
address) pair and per address; 密级 clearance in hits, totals, facets and records;
ID numbers masked; approvals before restricted records open; the register
written before each view is answered (kill -9 loses nothing), append-only,
exported as CSV and as the printable 利用登记簿; nothing personal in the log."""
import http.client
import json
import os
import signal
import struct
import subprocess
import sys
import time
import unittest
import urllib.parse
import zlib

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, code_path  # noqa: E402

EXE = os.environ.get("INDEXD", "build/indexd/indexd")
QUERY = os.environ.get("QUERY", "build/query/query")

ID = "110101199003071234"
ID_MASKED = "110101********1234"
ID_X = "11010120000229123X"               # its check digit is X


def fw(s):
    """Full width: digits and letters U+FF10…, a space U+3000."""
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) for c in s)
PUBLIC = "Z071-WS·2017-Y-BGS-0001"     # open to every reader
SECRET = "Z071-WS·2017-Y-BGS-0002"     # 密级 秘密
HOUSE = "Z071-FH·2017-Y-BGS-0001"      # a household file: needs approval
PASSWORDS = {"ad": "admin-pass-1", "li": "li-pass-12", "ping": "ping-pass-1", "ven": "vendor-pass-1",
             "wang": "wang-pass-1", "zhou": "zhou-pass-1"}


def png_gray(w, h, rows):
    """An 8-bit grey PNG from rows of bytes."""
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    raw = b"".join(b"\0" + bytes(r) for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def png_pixels(data):
    """(width, height, rows of grey (or red) values, rows of alpha or None)
    of an 8-bit grey or RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        t, d = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if t == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", d[:10])
            assert depth == 8, depth
            bpp = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
        elif t == b"IDAT":
            idat += d
        pos += 12 + n
    raw, rows, alpha, prev, stride = zlib.decompress(idat), [], [], bytearray(w * bpp), w * bpp
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([line[x * bpp] for x in range(w)])
        if bpp in (2, 4):
            alpha.append([line[x * bpp + bpp - 1] for x in range(w)])
        prev = line
    return w, h, rows, (alpha if bpp in (2, 4) else None)


class AccessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        d = cls.d = Daemon(EXE)
        os.makedirs(d.data_dir, exist_ok=True)
        d.add_user("ad", "admin", PASSWORDS["ad"])
        d.add_user("li", "archivist", PASSWORDS["li"])
        d.add_user("ping", "evaluator", PASSWORDS["ping"])
        d.add_user("ven", "vendor", PASSWORDS["ven"])
        d.add_user("wang", "archivist", PASSWORDS["wang"], "--clearance", "秘密", "--ids")
        cls.tok = {u: d.make_token(u, purpose="测试查阅") for u in ("ad", "li", "ping", "ven", "wang")}
        d.start()
        recs = [
            {"code": PUBLIC, "title": "关于精准扶贫对象识别的通知", "author": "县扶贫办", "date": "20170305", "pages": 2,
             "location": "1号库-01列-1节-1层-001盒"},
            {"code": SECRET, "title": "精准扶贫资金专项审计意见", "author": "县审计局", "date": "20170306", "pages": 2,
             "classification": "秘密", "location": "2号库-01列-1节-1层-001盒"},
            {"code": HOUSE, "title": f"贫困户张三家庭档案（身份证 {ID}）", "author": "城关镇", "date": "20170307",
             "pages": 1, "location": "3号库-01列-1节-1层-001盒"},
        ]
        for r in recs:
            st, body, _ = d.request("PUT", code_path(r["code"]), json.dumps(r))
            assert st in (200, 201), body
        pages = {PUBLIC: f"精准扶贫对象识别工作要求入户核实，户主身份证号{ID}登记在册。",
                 SECRET: "精准扶贫资金审计发现的问题。",
                 HOUSE: f"户主张三，身份证号码{ID}，精准扶贫建档立卡贫困户。"}
        for code, text in pages.items():
            st, body, _ = d.request("PUT", code_path(code) + "/pages/1", json.dumps({"text": text}))
            assert st in (200, 201), body
        st, body, _ = d.request("PUT", code_path(PUBLIC) + "/pages/1/image", png_gray(1, 1, [[255]]), "image/png")
        assert st == 200, body

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def call(self, who, method, path, body=None, ctype=None, raw=False):
        return self.d.request(method, path, body, ctype, raw=raw, token=self.tok[who] if who else None)

    # ---- authentication ----------------------------------------------------

    def test_unauthenticated_gets_401_everywhere(self):
        q = urllib.parse.quote
        routes = [("GET", "/api/v1/search?q=" + q("扶贫")), ("POST", "/api/v1/catalog"), ("POST", "/api/v1/records"),
                  ("GET", code_path(PUBLIC)), ("PUT", code_path(PUBLIC)), ("DELETE", code_path(PUBLIC)),
                  ("GET", code_path(PUBLIC) + "/pages/1"), ("PUT", code_path(PUBLIC) + "/pages/1"),
                  ("GET", code_path(PUBLIC) + "/pages/1/image"), ("PUT", code_path(PUBLIC) + "/pages/1/image"),
                  ("GET", code_path(PUBLIC) + "/pages/1/boxes?q=" + q("扶贫")),
                  ("GET", "/api/v1/reports/coverage"), ("GET", "/api/v1/reports/catalog"),
                  ("GET", "/api/v1/reports/ledger"), ("GET", "/api/v1/reports/acceptance"),
                  ("GET", "/api/v1/reports/timed-tests"), ("GET", "/api/v1/reports/coverage?format=csv"),
                  ("PUT", "/api/v1/deliveries/d1"), ("POST", "/api/v1/timed-tests"),
                  ("GET", "/api/v1/timed-tests/draw"), ("GET", "/api/v1/me"), ("PUT", "/api/v1/me/purpose"),
                  ("POST", "/api/v1/logout"), ("GET", "/api/v1/register"), ("GET", "/api/v1/register?format=csv"),
                  ("GET", "/api/v1/approvals"), ("POST", "/api/v1/approvals"),
                  ("POST", "/api/v1/approvals/1/decision"), ("GET", "/api/v1/nosuch")]
        for method, path in routes:
            st, body, h = self.call(None, method, path, "{}" if method != "GET" else None)
            self.assertEqual(st, 401, (method, path, body))
            self.assertEqual(body["error"]["status"], "unauthorized")
            self.assertIn("Bearer", h.get("WWW-Authenticate", ""))
        # a wrong or revoked token is refused the same way
        st, body, _ = self.d.request("GET", "/api/v1/search", token="ixt_" + "A" * 43)
        self.assertEqual(st, 401)
        st, _, _ = self.d.request("GET", "/api/v1/search", headers={"Authorization": "Basic YTpi"}, token=None)
        self.assertEqual(st, 401)
        # what needs no caller: the health check and the client's files
        st, body, _ = self.call(None, "GET", "/healthz")
        self.assertEqual(st, 200)
        st, page, _ = self.call(None, "GET", "/", raw=True)
        self.assertEqual(st, 200)
        self.assertIn("<html", page.decode("utf-8"))

    def login(self, user, password=None):
        st, body, h = self.d.request("POST", "/api/v1/login",
                                     json.dumps({"user": user, "password": password or PASSWORDS[user]}),
                                     "application/json", token=None)
        return st, body, h

    def test_session_cookie_csrf_logout(self):
        st, me, h = self.login("li")
        self.assertEqual(st, 200, me)
        cookie = h["Set-Cookie"]
        for flag in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"):
            self.assertIn(flag, cookie)
        self.assertEqual((me["user"], me["role"], me["role_cn"], me["clearance"], me["ids"]),
                         ("li", "archivist", "档案员", "公开", False))
        self.assertEqual(len(me["csrf"]), 64)
        sid = cookie.split(";")[0]
        hdr = {"Cookie": sid}
        st, me2, _ = self.d.request("GET", "/api/v1/me", token=None, headers=hdr)
        self.assertEqual((st, me2["user"], me2["csrf"]), (200, "li", me["csrf"]))
        # a write with the cookie but without the CSRF token is refused
        body = json.dumps({"purpose": "核实贫困户信息"})
        st, err, _ = self.d.request("PUT", "/api/v1/me/purpose", body, "application/json", token=None, headers=hdr)
        self.assertEqual((st, err["error"]["status"]), (403, "forbidden"))
        st, err, _ = self.d.request("PUT", "/api/v1/me/purpose", body, "application/json", token=None,
                                    headers=dict(hdr, **{"X-CSRF-Token": "0" * 64}))
        self.assertEqual(st, 403)
        st, ans, _ = self.d.request("PUT", "/api/v1/me/purpose", body, "application/json", token=None,
                                    headers=dict(hdr, **{"X-CSRF-Token": me["csrf"]}))
        self.assertEqual((st, ans["purpose"]), (200, "核实贫困户信息"))
        st, me3, _ = self.d.request("GET", "/api/v1/me", token=None, headers=hdr)
        self.assertEqual(me3["purpose"], "核实贫困户信息")
        # logout ends the session
        st, _, h = self.d.request("POST", "/api/v1/logout", "", token=None, headers=dict(hdr, **{"X-CSRF-Token": me["csrf"]}))
        self.assertEqual(st, 200)
        self.assertIn("Max-Age=0", h["Set-Cookie"])
        st, _, _ = self.d.request("GET", "/api/v1/me", token=None, headers=hdr)
        self.assertEqual(st, 401)
        # wrong password and unknown user: the same answer
        st, a, _ = self.login("li", "wrong-password")
        st2, b, _ = self.login("nobody", "wrong-password")
        self.assertEqual((st, st2), (401, 401))
        self.assertEqual(a, b)
        st, _, _ = self.d.request("POST", "/api/v1/login", "not json", "application/json", token=None)
        self.assertEqual(st, 400)

    def test_secure_cookie_behind_https(self):
        d = Daemon(EXE, extra=["--cookie-secure", "1", "--session-hours", "2"])
        try:
            os.makedirs(d.data_dir, exist_ok=True)
            d.add_user("li", "archivist", PASSWORDS["li"])
            d.start()
            st, me, h = d.request("POST", "/api/v1/login", json.dumps({"user": "li", "password": PASSWORDS["li"]}),
                                  "application/json", token=None)
            self.assertEqual(st, 200)
            self.assertIn("; Secure", h["Set-Cookie"])
            self.assertIn("Max-Age=7200", h["Set-Cookie"])
        finally:
            d.cleanup()

    def login_from(self, addr, user, password):
        """Log in over a connection from the loopback address addr (Linux
        routes all of 127.0.0.0/8 to lo): (status, body, headers)."""
        host, port = self.d.base.split("//")[1].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60, source_address=(addr, 0))
        try:
            conn.request("POST", "/api/v1/login", json.dumps({"user": user, "password": password}),
                         {"Content-Type": "application/json"})
            r = conn.getresponse()
            return r.status, json.loads(r.read().decode("utf-8")), r.headers
        finally:
            conn.close()

    def session_of(self, user, password=None):
        st, me, h = self.login(user, password)
        self.assertEqual(st, 200, me)
        return {"Cookie": h["Set-Cookie"].split(";")[0]}

    def me(self, sid=None, token=None):
        return self.d.request("GET", "/api/v1/me", token=token, headers=sid)[0]

    def users_cli(self, *args, password=None):
        """indexd users ARGS: what it says on stderr (it must succeed)."""
        r = subprocess.run([EXE, "users", *args, "--data-dir", self.d.data_dir], capture_output=True, text=True,
                           input=(password + "\n") if password is not None else "")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stderr

    def test_users_changed_while_running(self):
        # A change made with `indexd users` takes effect on the very next
        # request.  A role change used to leave the session going with the
        # new role; now any change of role, clearance, ids or password (and
        # a deletion) ends the user's sessions and revokes their API tokens:
        # what was granted under the old rights or password does not go on.
        self.d.add_user("zhou", "evaluator", PASSWORDS["zhou"])
        sid = self.session_of("zhou")
        tok = self.d.make_token("zhou")
        self.assertEqual((self.me(sid), self.me(token=tok)), (200, 200))
        said = self.users_cli("set", "zhou", "--role", "vendor")
        self.assertIn("已吊销 1 个 API 令牌", said)
        self.assertIn("indexd users token zhou", said)
        self.assertEqual((self.me(sid), self.me(token=tok)), (401, 401))
        st, me, _ = self.login("zhou")
        self.assertEqual((st, me["role"]), (200, "vendor"))
        # a set that changes nothing ends nothing
        sid = self.session_of("zhou")
        tok = self.d.make_token("zhou")
        self.assertIn("没有需要更改的内容", self.users_cli("set", "zhou", "--role", "vendor"))
        self.assertEqual((self.me(sid), self.me(token=tok)), (200, 200))
        # a new password
        self.users_cli("passwd", "zhou", password="zhou-pass-2")
        self.assertEqual((self.me(sid), self.me(token=tok)), (401, 401))
        self.assertEqual(self.login("zhou")[0], 401)
        sid = self.session_of("zhou", "zhou-pass-2")
        tok = self.d.make_token("zhou")
        # revoke --sessions ends the sessions only
        self.assertIn("API 令牌保留", self.users_cli("revoke", "zhou", "--sessions"))
        self.assertEqual((self.me(sid), self.me(token=tok)), (401, 200))
        self.d.users("revoke", "zhou")
        self.assertEqual(self.me(token=tok), 401)
        # deleted and added again (as an admin, before the daemon saw either):
        # the old session, token and approval belong to another user
        self.users_cli("set", "zhou", "--role", "evaluator")
        sid = self.session_of("zhou", "zhou-pass-2")
        tok = self.d.make_token("zhou")
        st, req, _ = self.d.request("POST", "/api/v1/approvals", json.dumps({"code": HOUSE, "purpose": "复核"}),
                                    "application/json", token=tok)
        self.assertEqual(st, 201, req)
        st, dec, _ = self.call("ad", "POST", f"/api/v1/approvals/{req['id']}/decision", json.dumps({"approve": True}),
                               "application/json")
        self.assertEqual(dec["status"], "approved")
        st, r, _ = self.d.request("GET", code_path(HOUSE), token=tok)
        self.assertEqual(r["access"]["approval"]["status"], "approved")
        said = self.users_cli("delete", "zhou")
        self.assertIn("已删除", said)
        self.assertIn("已吊销 1 个 API 令牌", said)
        self.d.add_user("zhou", "admin", "zhou-pass-3")
        self.assertEqual((self.me(sid), self.me(token=tok)), (401, 401))
        self.d.users("set", "zhou", "--role", "evaluator")
        tok = self.d.make_token("zhou")
        st, r, _ = self.d.request("GET", code_path(HOUSE), token=tok)
        self.assertEqual(r["access"]["approval"], {"required": True, "status": "none"})
        st, lst, _ = self.d.request("GET", "/api/v1/approvals", token=tok)
        self.assertEqual(lst["approvals"], [])
        # a deletion alone
        sid = self.session_of("zhou", "zhou-pass-3")
        self.d.users("delete", "zhou")
        self.assertEqual((self.me(sid), self.me(token=tok)), (401, 401))
        # the file keeps hashes only
        with open(os.path.join(self.d.data_dir, "users.json"), encoding="utf-8") as f:
            text = f.read()
        self.assertNotIn(PASSWORDS["li"], text)
        self.assertNotIn(self.tok["li"], text)
        self.assertIn("$argon2id$", text)
        self.assertEqual(os.stat(os.path.join(self.d.data_dir, "users.json")).st_mode & 0o777, 0o600)

    def test_sessions_survive_restart(self):
        st, me, h = self.login("ping")
        sid = {"Cookie": h["Set-Cookie"].split(";")[0]}
        w = dict(sid, **{"X-CSRF-Token": me["csrf"]})
        st, _, _ = self.d.request("PUT", "/api/v1/me/purpose", json.dumps({"purpose": "重启前"}), "application/json",
                                  token=None, headers=w)
        self.assertEqual(st, 200)
        self.d.stop()
        try:
            path = os.path.join(self.d.data_dir, "sessions.json")
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            self.assertNotIn(sid["Cookie"].split("=", 1)[1], text)   # only its hash
        finally:
            self.d.start()
        st, me2, _ = self.d.request("GET", "/api/v1/me", token=None, headers=sid)
        self.assertEqual((st, me2["user"], me2["csrf"], me2["purpose"]), (200, "ping", me["csrf"], "重启前"))
        st, _, _ = self.d.request("POST", "/api/v1/logout", "", token=None, headers=w)
        self.assertEqual(st, 200)
        self.d.stop()
        self.d.start()
        self.assertEqual(self.me(sid), 401)   # a logout lasts too

    def test_login_limits(self):
        # M8: six wrong passwords for the admin from one address delay that
        # address (1, 2, 4, … s after the third failure), never the admin
        waits = {}
        for i in range(6):
            while True:
                st, err, h = self.login_from("127.0.0.2", "ad", "wrong-%d" % i)
                if st != 429:
                    break
                self.assertEqual(err["error"]["status"], "too_many")
                waits.setdefault(i, int(h["Retry-After"]))
                self.assertLessEqual(int(h["Retry-After"]), 4, waits)  # a delay, not a lock
                time.sleep(int(h["Retry-After"]))
            self.assertEqual(st, 401)
        # the daemon's clock counts whole seconds: a wait of d may show as d - 1
        self.assertEqual(sorted(waits), [3, 4, 5][3 - len(waits):], waits)
        self.assertIn(waits[4], (1, 2))
        self.assertIn(waits[5], (3, 4))
        st, err, h = self.login_from("127.0.0.2", "ad", PASSWORDS["ad"])
        self.assertEqual(st, 429)  # the password is not even checked
        self.assertIn(int(h["Retry-After"]), (7, 8))
        st, me, _ = self.login_from("127.0.0.3", "ad", PASSWORDS["ad"])
        self.assertEqual((st, me["user"]), (200, "ad"))
        # twenty failures from one address (any names): it is guessing, and
        # refused for 15 minutes, a right password too; others are not
        for i in range(20):
            st, _, _ = self.login_from("127.0.0.4", "guess%d" % i, "wrong")
            self.assertEqual(st, 401)
        st, err, h = self.login_from("127.0.0.4", "li", PASSWORDS["li"])
        self.assertEqual((st, err["error"]["status"]), (429, "too_many"))
        self.assertGreater(int(h["Retry-After"]), 800)
        st, _, _ = self.login_from("127.0.0.5", "li", PASSWORDS["li"])
        self.assertEqual(st, 200)
        st, _, _ = self.call("li", "GET", "/api/v1/me")  # tokens are not affected
        self.assertEqual(st, 200)

    # ---- roles ---------------------------------------------------------------

    def test_roles_get_exactly_their_rights(self):
        q = "/api/v1/search?q=" + urllib.parse.quote("扶贫")
        page = code_path(PUBLIC) + "/pages/1"
        rec = json.dumps({"code": "Z071-WS·2018-Y-BGS-0009", "title": "测试写入", "author": "x", "date": "20180101"})
        cases = [  # (method, path, body, {role: expected status})
            ("GET", q, None, {"ad": 200, "li": 200, "ping": 200, "ven": 403}),
            ("GET", code_path(PUBLIC), None, {"ad": 200, "li": 200, "ping": 200, "ven": 403}),
            ("GET", page, None, {"ad": 200, "li": 200, "ping": 200, "ven": 403}),
            ("GET", page + "/image", None, {"ad": 200, "li": 200, "ping": 200, "ven": 403}),
            ("GET", page + "/boxes?q=" + urllib.parse.quote("扶贫"), None, {"ad": 200, "li": 200, "ping": 200, "ven": 403}),
            ("GET", "/api/v1/reports/coverage", None, {"ad": 200, "li": 200, "ping": 200, "ven": 200}),
            ("GET", "/api/v1/reports/acceptance", None, {"ad": 200, "li": 200, "ping": 200, "ven": 200}),
            ("GET", "/api/v1/reports/ledger", None, {"ad": 200, "li": 200, "ping": 200, "ven": 403}),
            ("GET", "/api/v1/reports/catalog", None, {"ad": 200, "li": 200, "ping": 200, "ven": 403}),
            ("GET", "/api/v1/reports/timed-tests", None, {"ad": 200, "li": 200, "ping": 200, "ven": 403}),
            ("GET", "/api/v1/timed-tests/draw?n=1&seed=1", None, {"ad": 200, "li": 200, "ping": 200, "ven": 403}),
            ("GET", "/api/v1/register", None, {"ad": 200, "li": 200, "ping": 200, "ven": 403}),
            ("GET", "/api/v1/approvals", None, {"ad": 200, "li": 200, "ping": 200, "ven": 403}),
            ("PUT", code_path("Z071-WS·2018-Y-BGS-0009"), rec, {"ad": 200, "li": 200, "ping": 403, "ven": 403}),
            ("PUT", page, json.dumps({"text": "精准扶贫对象识别工作要求入户核实，户主身份证号" + ID + "登记在册。"}),
             {"ad": 200, "li": 200, "ping": 403, "ven": 403}),
            ("POST", "/api/v1/catalog", "档号,题名\n", {"ping": 403, "ven": 403}),
            ("PUT", "/api/v1/deliveries/x", "{}", {"ping": 403, "ven": 403}),
            ("POST", "/api/v1/approvals/999/decision", json.dumps({"approve": True}),
             {"ad": 404, "li": 403, "ping": 403, "ven": 403}),
        ]
        for method, path, body, want in cases:
            for who, http in want.items():
                st, ans, _ = self.call(who, method, path, body, "application/json" if body else None, raw=True)
                if method == "PUT" and http == 200:
                    self.assertIn(st, (200, 201), (who, method, path, ans[:300]))
                else:
                    self.assertEqual(st, http, (who, method, path, ans[:300]))
                if http == 403:
                    self.assertEqual(json.loads(ans)["error"]["status"], "forbidden")
        # the roles' rights as the daemon tells them
        st, me, _ = self.call("ven", "GET", "/api/v1/me")
        self.assertEqual(me["can"], ["vendor_reports"])
        st, me, _ = self.call("ad", "GET", "/api/v1/me")
        self.assertIn("approve", me["can"])

    # ---- 密级 and ID numbers ---------------------------------------------------

    def test_clearance_hides_records(self):
        q = "/api/v1/search?q=" + urllib.parse.quote("精准扶贫")
        st, a, _ = self.call("li", "GET", q)
        codes = [h["code"] for h in a["hits"]]
        self.assertNotIn(SECRET, codes)
        # the household file holds the words in its text only, which needs an approval li lacks
        self.assertEqual(codes, [PUBLIC])
        self.assertEqual(a["total"], 1)
        self.assertEqual(a["facets"]["classification"], {})
        self.assertNotIn("审计", json.dumps(a, ensure_ascii=False))
        st, a, _ = self.call("li", "GET", "/api/v1/search?classification=" + urllib.parse.quote("秘密"))
        self.assertEqual(a["total"], 0)
        for path in (code_path(SECRET), code_path(SECRET) + "/pages/1", code_path(SECRET) + "/pages/1/image",
                     code_path(SECRET) + "/pages/1/boxes?q=x"):
            st, err, _ = self.call("li", "GET", path)
            self.assertEqual(st, 404, path)
            self.assertIn("没有档号为 " + SECRET + " 的档案", err["error"]["message"])
        # cleared users see it (by its title, as its text needs an approval), counted in facets
        for who, total in (("wang", 2), ("ad", 3)):
            st, a, _ = self.call(who, "GET", q)
            self.assertIn(SECRET, [h["code"] for h in a["hits"]], who)
            self.assertEqual(a["total"], total, who)
            self.assertEqual(a["facets"]["classification"], {"秘密": 1})
        st, r, _ = self.call("wang", "GET", code_path(SECRET))
        self.assertEqual((st, r["access"]["approval"]["required"]), (200, True))  # any 密级 needs approval
        # reports count it but never list it to those without clearance
        st, cov, _ = self.call("ven", "GET", "/api/v1/reports/coverage")
        shown = {m["code"]: m["title"] for m in cov["missing"]}
        self.assertNotIn(SECRET, shown)
        self.assertEqual(shown[PUBLIC], "关于精准扶贫对象识别的通知")
        self.assertEqual(cov["missing_total"], len(shown))
        self.assertGreaterEqual(cov["missing_hidden"], 1)
        self.assertEqual(cov["total"], cov["digitized"] + len(shown) + cov["missing_hidden"])
        st, cov, _ = self.call("wang", "GET", "/api/v1/reports/coverage")
        self.assertEqual({m["code"]: m["title"] for m in cov["missing"]}[SECRET], "精准扶贫资金专项审计意见")
        self.assertEqual(cov["missing_hidden"], 0)
        self.assertTrue(all("classification" not in m for m in cov["missing"]))
        # timed-test draws never hand out a hidden record
        for seed in range(1, 8):
            st, dr, _ = self.call("ping", "GET", f"/api/v1/timed-tests/draw?n=3&seed={seed}")
            self.assertNotIn(SECRET, [x["code"] for x in dr["records"]])
        st, _, _ = self.call("ping", "GET", "/api/v1/timed-tests/draw?codes=" + urllib.parse.quote(SECRET))
        self.assertEqual(st, 404)
        # a run that tried it, by one cleared for it: the report names
        # neither its 档号, phrase, location nor 密级 to one who is not
        st, dr, _ = self.call("ad", "GET", "/api/v1/timed-tests/draw?codes=" + urllib.parse.quote(SECRET + "," + PUBLIC))
        self.assertEqual(st, 200, dr)
        phrase, loc = dr["records"][0]["phrase"], dr["records"][0]["location"]
        for verb, body in (("start", {"kind": "paper"}), ("stop", {"kind": "paper", "found": True})):
            st, _, _ = self.call("ad", "POST", f"/api/v1/timed-tests/{dr['draw']}/trials/1/{verb}", json.dumps(body))
            self.assertEqual(st, 200)
        st, run, _ = self.call("ad", "POST", "/api/v1/timed-tests", json.dumps({"draw": dr["draw"]}))
        self.assertEqual((st, run["untested"]), (201, [PUBLIC]))
        for fmt in ("json", "csv", "html"):
            st, raw, _ = self.call("ping", "GET", "/api/v1/reports/timed-tests?format=" + fmt, raw=True)
            text = raw.decode("utf-8-sig")
            self.assertEqual(st, 200)
            for word in [SECRET, phrase, "机密"] + ([loc] if loc else []):
                self.assertNotIn(word, text, fmt)
            self.assertIn("密级档案", text, fmt)
        st, raw, _ = self.call("ad", "GET", "/api/v1/reports/timed-tests", raw=True)
        self.assertIn(SECRET, raw.decode("utf-8"))
        # a 秘密 record left untried and deleted since: its 档号 is not shown
        # either (its 密级 is no longer known)
        gone = "Z071-WS·2017-Y-BGS-0097"
        st, _, _ = self.call("ad", "PUT", code_path(gone), json.dumps(
            {"code": gone, "title": "待删除的秘密文件", "author": "县审计局", "date": "20170306", "pages": 1,
             "classification": "秘密"}, ensure_ascii=False))
        self.assertEqual(st, 201)
        st, _, _ = self.call("ad", "PUT", code_path(gone) + "/pages/1", json.dumps({"text": "扶贫资金审计底稿正文"}))
        self.assertEqual(st, 201)
        st, dr, _ = self.call("ad", "GET", "/api/v1/timed-tests/draw?codes=" + urllib.parse.quote(PUBLIC + "," + gone))
        self.assertEqual(st, 200, dr)
        for verb, body in (("start", {"kind": "paper"}), ("stop", {"kind": "paper", "found": True})):
            st, _, _ = self.call("ad", "POST", f"/api/v1/timed-tests/{dr['draw']}/trials/1/{verb}", json.dumps(body))
        st, run, _ = self.call("ad", "POST", "/api/v1/timed-tests", json.dumps({"draw": dr["draw"]}))
        self.assertEqual((st, run["untested"]), (201, [gone]))
        st, _, _ = self.call("ad", "DELETE", code_path(gone))
        self.assertIn(st, (200, 204))
        st, raw, _ = self.call("ping", "GET", "/api/v1/reports/timed-tests", raw=True)
        self.assertNotIn(gone, raw.decode("utf-8"))

    def test_id_numbers_masked(self):
        q = "/api/v1/search?q=" + urllib.parse.quote("入户核实")
        st, a, _ = self.call("li", "GET", q)
        self.assertEqual(st, 200)
        text = json.dumps(a, ensure_ascii=False)
        self.assertNotIn(ID, text)
        # searching by the number would confirm it one guess at a time: only
        # for those who may see ID numbers (who find the record by it)
        for q in (ID, f'"{ID}"', "户主 " + ID[:-1] + "5"):
            st, err, _ = self.call("li", "GET", "/api/v1/search?q=" + urllib.parse.quote(q))
            self.assertEqual((st, err["error"]["status"]), (403, "forbidden"), q)
        st, err, _ = self.call("li", "GET", code_path(PUBLIC) + "/pages/1/boxes?q=" + ID)
        self.assertEqual(st, 403)
        st, a, _ = self.call("wang", "GET", "/api/v1/search?q=" + ID)
        self.assertIn(PUBLIC, [h["code"] for h in a["hits"]])
        self.assertIn(ID, json.dumps(a))
        st, a, _ = self.call("li", "GET", "/api/v1/search?q=" + urllib.parse.quote("身份证号"))
        self.assertIn(ID_MASKED, json.dumps(a, ensure_ascii=False))
        self.assertNotIn(ID, json.dumps(a))
        st, p, _ = self.call("li", "GET", code_path(PUBLIC) + "/pages/1")
        self.assertEqual(st, 200, p)
        self.assertIn(ID_MASKED, p["text"])
        self.assertNotIn(ID, p["text"])
        st, r, _ = self.call("li", "GET", code_path(HOUSE))
        self.assertIn(ID_MASKED, r["title"])
        # with the right to see them: in full
        for who in ("wang", "ad"):
            st, p, _ = self.call(who, "GET", code_path(PUBLIC) + "/pages/1")
            self.assertIn(ID, p["text"], who)

    def test_id_numbers_masked_in_every_notation(self):
        # full width (Ｘ and ｘ), 6-8-4 with a space, '-', U+3000; a mobile number
        code = "Z071-WS·2017-Y-BGS-0007"
        notations = [fw(ID_X), fw(ID_X[:-1]) + "ｘ", "110101 20000229 123X", "110101-20000229-123X",
                     "110101\u300020000229\u3000123X", fw("110101 20000229 123X")]
        hidden = ("20000229", fw("20000229"), "1234")  # birth dates; the phone's digits 4-7
        st, _, _ = self.call("ad", "PUT", code_path(code), json.dumps(
            {"code": code, "title": f"核查登记（{fw(ID_X)}，电话138-1234-5678）", "author": "x", "date": "20170101"}),
            "application/json")
        self.assertIn(st, (200, 201))
        text = "入户走访户主" + "，".join(notations) + "，联系电话138 1234 5678。"
        st, _, _ = self.call("ad", "PUT", code_path(code) + "/pages/1", json.dumps({"text": text}), "application/json")
        self.assertIn(st, (200, 201))
        st, p, _ = self.call("li", "GET", code_path(code) + "/pages/1")
        self.assertEqual(st, 200, p)
        for h in hidden:
            self.assertNotIn(h, p["text"])
        for m in ("110101 ******** 123X", "110101-********-123X", "110101\u3000********\u3000123X",
                  fw("110101") + "＊" * 8 + fw("123X"), fw("110101") + "＊" * 8 + fw("123") + "ｘ",
                  fw("110101 ") + "＊" * 8 + fw(" 123X"), "138 **** 5678"):
            self.assertIn(m, p["text"])
        self.assertEqual(len(p["text"].encode()), len(text.encode()))
        st, r, _ = self.call("li", "GET", code_path(code))
        self.assertEqual(r["title"], f"核查登记（{fw('110101')}＊＊＊＊＊＊＊＊{fw('123X')}，电话138-****-5678）")
        st, a, _ = self.call("li", "GET", "/api/v1/search?q=" + urllib.parse.quote("入户走访"))
        hit = [h for h in a["hits"] if h["code"] == code][0]
        self.assertIn("＊＊＊＊＊＊＊＊", hit["snippet"])
        self.assertIn("138-****-5678", hit["title"])
        for h in hidden:
            self.assertNotIn(h, json.dumps(a, ensure_ascii=False))
        # a search by any notation would confirm the number: refused
        for q in [ID_X, ID_X.lower(), fw(ID_X[:-1]) + "ｘ", "１１０１０１１９９００３０７１２３４"] + notations + \
                 [f'"{n}"' for n in notations] + ["13812345678", "138 1234 5678", "+86 138-1234-5678", fw("13812345678")]:
            st, err, _ = self.call("li", "GET", "/api/v1/search?q=" + urllib.parse.quote(q))
            self.assertEqual((st, err["error"]["status"]), (403, "forbidden"), q)
            st, _, _ = self.call("li", "GET", code_path(code) + "/pages/1/boxes?q=" + urllib.parse.quote(q))
            self.assertEqual(st, 403, q)
        # the hidden part is no word of the index: searching it finds nothing
        for q in ("20000229", "1234", "138 1234"):
            st, a, _ = self.call("li", "GET", "/api/v1/search?q=" + urllib.parse.quote(q))
            self.assertEqual(st, 200, q)
            self.assertNotIn(code, [h["code"] for h in a["hits"]], q)
        # ordinary searches are not refused
        for q in ("精准扶贫", "2017", "脱贫 2019", "20170305"):
            st, _, _ = self.call("li", "GET", "/api/v1/search?q=" + urllib.parse.quote(q))
            self.assertEqual(st, 200, q)
        # with the right to see them: found by any notation, shown in full
        for q in (ID_X, "110101 20000229 123X", fw(ID_X[:-1]) + "ｘ", "138-1234-5678"):
            st, a, _ = self.call("wang", "GET", "/api/v1/search?q=" + urllib.parse.quote(q))
            self.assertIn(code, [h["code"] for h in a["hits"]], q)
        st, p, _ = self.call("wang", "GET", code_path(code) + "/pages/1")
        self.assertEqual(p["text"], text)

    def test_id_numbers_blacked_out_on_scans(self):
        code = "Z071-WS·2017-Y-BGS-0005"
        st, body, _ = self.call("ad", "PUT", code_path(code), json.dumps(
            {"code": code, "title": "入户核实登记", "author": "x", "date": "20170101", "pages": 1}), "application/json")
        text = "身份证号" + ID
        boxes, off = [], 0
        for i, ch in enumerate(text):   # one 20-pixel cell per character, on a 480 x 40 scan
            boxes.append([i * 20 + 1, 10, 18, 20, off])
            off += len(ch.encode("utf-8"))
        st, _, _ = self.call("ad", "PUT", code_path(code) + "/pages/1",
                             json.dumps({"text": text, "boxes": boxes, "width": 480, "height": 40}), "application/json")
        self.assertIn(st, (200, 201))
        png = png_gray(480, 40, [[255] * 480 for _ in range(40)])
        st, _, _ = self.call("ad", "PUT", code_path(code) + "/pages/1/image", png, "image/png")
        self.assertEqual(st, 200)
        st, img, h = self.call("li", "GET", code_path(code) + "/pages/1/image", raw=True)
        self.assertEqual((st, h["Content-Type"]), (200, "image/png"))
        w, hgt, rows, _ = png_pixels(img)
        self.assertEqual((w, hgt), (480, 40))
        for i in range(len(text)):
            dark = rows[20][i * 20 + 10] < 50
            hidden = 4 + 6 <= i < 4 + 14   # digits 7-14 of the number
            self.assertEqual(dark, hidden, i)
        # with the right to see ID numbers: the scan as stored
        st, img, _ = self.call("wang", "GET", code_path(code) + "/pages/1/image", raw=True)
        self.assertEqual(img, png)
        # a scan with transparency (RGBA): the box is opaque black, not see-through
        def rgba_png(w, h):
            def chunk(t, d):
                return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
            raw = b"".join(b"\0" + b"\xff\xff\xff\x00" * w for _ in range(h))
            return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)) +
                    chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
        st, _, _ = self.call("ad", "PUT", code_path(code) + "/pages/1/image", rgba_png(480, 40), "image/png")
        st, img, _ = self.call("li", "GET", code_path(code) + "/pages/1/image", raw=True)
        w, hgt, rows, alpha = png_pixels(img)
        self.assertLess(rows[20][14 * 20 + 10], 50)
        if alpha is not None:
            self.assertEqual(alpha[20][14 * 20 + 10], 255)  # opaque
            self.assertEqual(alpha[20][2 * 20 + 10], 0)     # the rest as it was

        # full width with U+3000 between the groups, and a mobile number: page 2
        text = "身份证号" + fw("110101 19900307 1234") + "电话" + "138-1234-5678"
        boxes, off = [], 0
        for i, ch in enumerate(text):   # 20-pixel cells on a 960 x 40 scan
            boxes.append([i * 20 + 1, 10, 18, 20, off])
            off += len(ch.encode("utf-8"))
        st, _, _ = self.call("ad", "PUT", code_path(code) + "/pages/2",
                             json.dumps({"text": text, "boxes": boxes, "width": 960, "height": 40}), "application/json")
        self.assertIn(st, (200, 201))
        png2 = png_gray(960, 40, [[255] * 960 for _ in range(40)])
        st, _, _ = self.call("ad", "PUT", code_path(code) + "/pages/2/image", png2, "image/png")
        self.assertEqual(st, 200)
        st, img, _ = self.call("li", "GET", code_path(code) + "/pages/2/image", raw=True)
        self.assertEqual(st, 200)
        w, hgt, rows, _ = png_pixels(img)
        for i in range(len(text)):
            hidden = 4 + 7 <= i < 4 + 15 or 4 + 20 + 2 + 4 <= i < 4 + 20 + 2 + 8
            self.assertEqual(rows[20][i * 20 + 10] < 50, hidden, i)
        # made once: the copy lies beside the scan and the next view sends it
        folder = [os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(self.d.data_dir, "images"))
                  for f in fs if f.startswith("2.r")]
        self.assertEqual(len(folder), 1, folder)
        with open(folder[0], "rb") as f:
            self.assertEqual(f.read(), img)
        st, again, _ = self.call("li", "GET", code_path(code) + "/pages/2/image", raw=True)
        self.assertEqual(again, img)
        # new page text, other boxes: a new copy (the phone is no longer there)
        st, _, _ = self.call("ad", "PUT", code_path(code) + "/pages/2",
                             json.dumps({"text": text[:24] + "电话" + "0571-8888888",
                                         "boxes": boxes, "width": 960, "height": 40}), "application/json")
        st, img3, _ = self.call("li", "GET", code_path(code) + "/pages/2/image", raw=True)
        w, hgt, rows, _ = png_pixels(img3)
        self.assertLess(rows[20][12 * 20 + 10], 50)
        self.assertGreater(rows[20][31 * 20 + 10], 200)

    def test_review_findings(self):
        # a hidden record cannot be written (or its existence probed) by one without clearance
        down = json.dumps({"code": SECRET, "title": "x", "author": "x", "date": "20170101", "classification": "公开"})
        st, _, _ = self.call("li", "PUT", code_path(SECRET), down, "application/json")
        self.assertEqual(st, 404)
        st, _, _ = self.call("li", "DELETE", code_path(SECRET))
        self.assertEqual(st, 404)
        st, _, _ = self.call("li", "PUT", code_path(SECRET) + "/pages/1", json.dumps({"text": "x"}), "application/json")
        self.assertEqual(st, 404)
        st, r, _ = self.call("ad", "GET", code_path(SECRET))
        self.assertEqual(r["classification"], "秘密")
        up = json.dumps({"code": "Z071-WS·2018-Y-BGS-0077", "title": "x", "author": "x", "date": "20180101",
                         "classification": "机密"})
        st, _, _ = self.call("li", "PUT", code_path("Z071-WS·2018-Y-BGS-0077"), up, "application/json")
        self.assertEqual(st, 403)
        # a snippet window never shows part of an ID number
        code = "Z071-WS·2017-Y-BGS-0006"
        self.call("ad", "PUT", code_path(code), json.dumps({"code": code, "title": "片段", "author": "x", "date": "20170101"}),
                  "application/json")
        self.call("ad", "PUT", code_path(code) + "/pages/1",
                  json.dumps({"text": "甲" * 300 + ID + "乙" * 40 + "幸福村" + "丙" * 300}), "application/json")
        st, a, _ = self.call("li", "GET", "/api/v1/search?q=" + urllib.parse.quote("幸福村"))
        snip = [h["snippet"] for h in a["hits"] if h["code"] == code][0]
        self.assertNotIn("9003071", snip)
        # full-width digits are digits
        fw = "".join(chr(0xFF10 + int(ch)) for ch in ID)
        st, _, _ = self.call("li", "GET", "/api/v1/search?q=" + urllib.parse.quote(fw))
        self.assertEqual(st, 403)
        # titles in approvals and draws are masked
        st, req, _ = self.call("li", "POST", "/api/v1/approvals", json.dumps({"code": HOUSE, "purpose": "核对"}),
                               "application/json")
        self.assertNotIn(ID, json.dumps(req))
        st, lst, _ = self.call("li", "GET", "/api/v1/approvals")
        self.assertNotIn(ID, json.dumps(lst))
        st, dr, _ = self.call("ping", "GET", "/api/v1/timed-tests/draw?codes=" + urllib.parse.quote(HOUSE))
        self.assertNotIn(ID, json.dumps(dr))
        # the register does not describe views of records above the reader's 密级
        self.call("ad", "GET", code_path(SECRET) + "/pages/1")
        st, reg, _ = self.call("li", "GET", "/api/v1/register?user=ad&code=" + urllib.parse.quote(SECRET))
        self.assertEqual((reg["entries"], reg["hidden_total"]), ([], 0))  # as for an absent 档号
        st, reg, _ = self.call("li", "GET", "/api/v1/register?user=ad")
        self.assertGreaterEqual(reg["hidden_total"], 1)
        self.assertNotIn(SECRET, json.dumps(reg, ensure_ascii=False))
        st, reg, _ = self.call("wang", "GET", "/api/v1/register?user=ad&code=" + urllib.parse.quote(SECRET))
        self.assertTrue(reg["entries"])
        # an unauthenticated write is refused before its body is read; a login body is small
        import socket
        host, port = self.d.base.split("//")[1].split(":")
        with socket.create_connection((host, int(port)), timeout=10) as so:
            so.sendall(b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                       b"Content-Length: 536870000\r\n\r\n")
            self.assertTrue(so.recv(200).startswith(b"HTTP/1.1 401"))
        st, err, _ = self.d.request("POST", "/api/v1/login", b"x" * 10000, "application/json", token=None)
        self.assertEqual(st, 413)
        # a bad page number is answered with a clear error, whatever bytes it holds
        st, err, _ = self.call("li", "GET", code_path(PUBLIC) + "/pages/" + urllib.parse.quote("ab" + "中" * 30))
        self.assertEqual(st, 400)

    # ---- approvals and purpose -----------------------------------------------

    def test_restricted_record_needs_approval(self):
        page = code_path(HOUSE) + "/pages/1"
        st, r, _ = self.call("ping", "GET", code_path(HOUSE))
        self.assertEqual(r["access"], {"text": False, "approval": {"required": True, "status": "none"}})
        for path in (page, page + "/image", page + "/boxes?q=" + urllib.parse.quote("张三")):
            st, err, _ = self.call("ping", "GET", path)
            self.assertEqual((st, err["error"]["status"]), (403, "approval_required"), path)
        st, req, _ = self.call("ping", "POST", "/api/v1/approvals",
                               json.dumps({"code": HOUSE, "purpose": "评估检查抽查"}), "application/json")
        self.assertEqual(st, 201, req)
        self.assertEqual((req["status"], req["user"], req["code"]), ("pending", "ping", HOUSE))
        # asking again gives the same open request
        st, again, _ = self.call("ping", "POST", "/api/v1/approvals", json.dumps({"code": HOUSE}), "application/json")
        self.assertEqual((st, again["id"]), (200, req["id"]))
        st, err, _ = self.call("ping", "GET", page)
        self.assertEqual(st, 403)
        st, lst, _ = self.call("ad", "GET", "/api/v1/approvals?status=pending")
        self.assertIn(req["id"], [x["id"] for x in lst["approvals"]])
        st, lst, _ = self.call("li", "GET", "/api/v1/approvals")
        self.assertNotIn(req["id"], [x["id"] for x in lst["approvals"]])  # others see their own only
        st, dec, _ = self.call("ad", "POST", f"/api/v1/approvals/{req['id']}/decision",
                               json.dumps({"approve": True, "note": "同意"}), "application/json")
        self.assertEqual((st, dec["status"], dec["decided_by"]), (200, "approved", "ad"))
        st, _, _ = self.call("ad", "POST", f"/api/v1/approvals/{req['id']}/decision",
                             json.dumps({"approve": False}), "application/json")
        self.assertEqual(st, 409)
        st, p, _ = self.call("ping", "GET", page)
        self.assertEqual(st, 200, p)
        self.assertIn(ID_MASKED, p["text"])
        st, r, _ = self.call("ping", "GET", code_path(HOUSE))
        self.assertEqual(r["access"]["text"], True)
        # the register names the approval
        st, reg, _ = self.call("ad", "GET", "/api/v1/register?user=ping&code=" + urllib.parse.quote(HOUSE))
        self.assertEqual([(e["kind"], e["approval"], e["purpose"]) for e in reg["entries"]],
                         [("text", req["id"], "测试查阅")])
        # a denial keeps it closed; bad requests
        st, req2, _ = self.call("li", "POST", "/api/v1/approvals", json.dumps({"code": HOUSE, "purpose": "x"}),
                                "application/json")
        st, dec, _ = self.call("ad", "POST", f"/api/v1/approvals/{req2['id']}/decision", json.dumps({"approve": False}),
                               "application/json")
        self.assertEqual(dec["status"], "denied")
        st, err, _ = self.call("li", "GET", page)
        self.assertIn("未批准", err["error"]["message"])
        st, err, _ = self.call("li", "POST", "/api/v1/approvals", json.dumps({"code": PUBLIC, "purpose": "x"}),
                               "application/json")
        self.assertEqual(st, 400)  # needs none
        st, err, _ = self.call("li", "POST", "/api/v1/approvals", json.dumps({"code": "nonsense"}), "application/json")
        self.assertEqual(st, 400)
        st, err, _ = self.call("ad", "POST", "/api/v1/approvals/1/decision", json.dumps({"approve": "yes"}),
                               "application/json")
        self.assertEqual(st, 400)
        # admins need no approval
        st, _, _ = self.call("ad", "GET", page)
        self.assertEqual(st, 200)

    def test_purpose_asked_and_remembered(self):
        st, me, h = self.login("li")
        hdr = {"Cookie": h["Set-Cookie"].split(";")[0]}
        page = code_path(PUBLIC) + "/pages/1"
        st, err, _ = self.d.request("GET", page, token=None, headers=hdr)
        self.assertEqual((st, err["error"]["status"]), (428, "purpose_required"))
        st, err, _ = self.d.request("GET", page + "/image", token=None, headers=hdr)
        self.assertEqual(st, 428)
        st, p, _ = self.d.request("GET", page + "?purpose=" + urllib.parse.quote("临时查考"), token=None, headers=hdr)
        self.assertEqual(st, 200)
        w = dict(hdr, **{"X-CSRF-Token": me["csrf"]})
        for bad in ("", "x" * 500, "a\u0001b"):
            st, _, _ = self.d.request("PUT", "/api/v1/me/purpose", json.dumps({"purpose": bad}), "application/json",
                                      token=None, headers=w)
            self.assertEqual(st, 400, bad)
        self.d.request("PUT", "/api/v1/me/purpose", json.dumps({"purpose": "政策落实核实"}), "application/json",
                       token=None, headers=w)
        st, img, _ = self.d.request("GET", page + "/image", token=None, headers=hdr, raw=True)
        self.assertEqual(st, 200)
        st, reg, _ = self.call("ad", "GET", "/api/v1/register?user=li&code=" + urllib.parse.quote(PUBLIC))
        got = [(e["kind"], e["purpose"]) for e in reg["entries"]]
        self.assertIn(("text", "临时查考"), got)
        self.assertIn(("image", "政策落实核实"), got)

    # ---- the register ----------------------------------------------------------

    def test_register_exports_and_is_append_only(self):
        self.call("li", "GET", code_path(PUBLIC) + "/pages/1")
        st, csv, h = self.call("li", "GET", "/api/v1/register?format=csv", raw=True)
        self.assertEqual(st, 200)
        text = csv.decode("utf-8")
        self.assertTrue(text.startswith("\ufeff序号,时间,利用者,角色,档号/导出,题名,利用方式,页,利用目的,审批号"))
        self.assertIn(f"li,archivist,{PUBLIC},关于精准扶贫对象识别的通知,查阅全文,1,测试查阅", text)
        st, gb, _ = self.call("li", "GET", "/api/v1/register?format=csv&encoding=gb18030", raw=True)
        self.assertIn("利用方式", gb.decode("gb18030"))
        st, html, _ = self.call("li", "GET", "/api/v1/register?format=html", raw=True)
        page = html.decode("utf-8")
        self.assertIn("档案利用登记簿", page)
        self.assertIn("利用效果", page)
        self.assertIn(PUBLIC, page)
        # exports are registered themselves
        st, reg, _ = self.call("ad", "GET", "/api/v1/register?user=li")
        kinds = [(e["kind"], e["code"]) for e in reg["entries"]]
        self.assertIn(("export", "register.csv"), kinds)
        self.assertIn(("export", "register.html"), kinds)
        st, _, _ = self.call("li", "GET", "/api/v1/reports/coverage?format=csv", raw=True)
        st, reg, _ = self.call("ad", "GET", "/api/v1/register?user=li&limit=10000")
        self.assertEqual(reg["entries"][-1]["code"], "coverage.csv")
        seqs = [e["seq"] for e in reg["entries"]]
        self.assertEqual(seqs, sorted(seqs))
        # no way to change it through the API
        for method in ("POST", "PUT", "DELETE"):
            st, err, h = self.call("ad", method, "/api/v1/register", "{}", "application/json")
            self.assertEqual(st, 405, method)
        # filters and their errors
        st, reg, _ = self.call("ad", "GET", "/api/v1/register?from=20000101&to=20000102")
        self.assertEqual(reg["total"], 0)
        st, _, _ = self.call("ad", "GET", "/api/v1/register?from=2000-01-01")
        self.assertEqual(st, 400)
        st, _, _ = self.call("ad", "GET", "/api/v1/register?format=pdf")
        self.assertEqual(st, 400)

    def test_zz_register_survives_kill_and_log_is_clean(self):
        """Last: restarts the daemon."""
        d = self.d
        st, p, _ = self.call("wang", "GET", code_path(PUBLIC) + "/pages/1?purpose=" + urllib.parse.quote("断电前查阅"))
        self.assertEqual(st, 200)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        d.stop()
        # a line torn by a crash (its view was never answered) is skipped
        with open(os.path.join(d.data_dir, "register", "uses.ndjson"), "ab") as f:
            f.write(b'{"seq": 99999, "time": "2026-01-01T00:00:00+08:00", "user": "torn"')
        d.start()
        st, reg, _ = self.call("ad", "GET", "/api/v1/register?user=wang&limit=10000")
        self.assertIn("断电前查阅", [e["purpose"] for e in reg["entries"]])
        self.call("wang", "GET", code_path(PUBLIC) + "/pages/1?purpose=" + urllib.parse.quote("重启后查阅"))
        st, reg, _ = self.call("ad", "GET", "/api/v1/register?limit=10000")
        self.assertEqual(reg["entries"][-1]["purpose"], "重启后查阅")
        self.assertNotIn("torn", [e["user"] for e in reg["entries"]])
        # approvals survive too
        st, lst, _ = self.call("ad", "GET", "/api/v1/approvals?status=approved")
        self.assertTrue(lst["approvals"])
        # a failed login is logged without the password; a session id never is
        st, _, _ = self.login("wang", "wrong-password-zz")
        self.assertEqual(st, 401)
        sid = self.session_of("wang")["Cookie"].split("=", 1)[1]
        self.assertEqual(self.me({"Cookie": "indexd_session=" + sid}), 200)
        # a password guesser cannot flood the log: lines about failed and
        # refused logins are bounded per second, and the rest are counted
        t0 = time.monotonic()
        for i in range(300):
            st, _, _ = self.login(f"guess{i % 7}", "wrong-password-zz")
            self.assertIn(st, (401, 429))
        seconds = time.monotonic() - t0
        # the count of lines held back is logged with the next line of the kind
        time.sleep(1.1)
        self.login("guess-last", "wrong-password-zz")
        # the log has neither passwords, tokens nor ID numbers
        d.stop()
        log = d.stderr
        lines = [l for l in log.splitlines() if "login failed" in l or "login refused" in l]
        self.assertLessEqual(len(lines), 5 * (int(seconds) + 3), (len(lines), seconds))
        self.assertIn("more such lines in the last second were not logged", log)
        for secret in (ID, sid, "wrong-password-zz", *PASSWORDS.values(), *self.tok.values()):
            self.assertNotIn(secret, log)
        self.assertIn("login failed", log)
        d.start()

    def test_query_cli_uses_the_token(self):
        env = dict(os.environ, INDEXD_URL=self.d.base, INDEXD_TOKEN=self.tok["li"])
        r = subprocess.run([QUERY, "search", "入户核实"], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(PUBLIC, r.stdout)
        self.assertNotIn(ID, r.stdout)
        self.call("li", "GET", code_path(PUBLIC) + "/pages/1")
        r = subprocess.run([QUERY, "report", "register"], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("利用登记簿：共 ", r.stdout)
        self.assertIn(f"li  全文  {PUBLIC} 第 1 页  测试查阅", r.stdout)
        r = subprocess.run([QUERY, "report", "register", "--format", "html"], capture_output=True, text=True, env=env)
        self.assertIn("档案利用登记簿", r.stdout)
        env["INDEXD_TOKEN"] = "ixt_wrong_wrong_wrong_wrong"
        r = subprocess.run([QUERY, "search", "入户核实"], capture_output=True, text=True, env=env)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("indexd users token", r.stderr)
        env["INDEXD_TOKEN"] = self.tok["ven"]
        r = subprocess.run([QUERY, "report", "coverage"], capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([QUERY, "search", "扶贫"], capture_output=True, text=True, env=env)
        self.assertNotEqual(r.returncode, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
