// End-to-end test of the web client against the real daemon, in Chromium.
//
//   INDEXD=build/indexd/indexd ARTEFACTS=build/e2e-shots node tests/e2e/run.mjs
//
// Makes users with `indexd users`, starts indexd on a free loopback port,
// loads a few records with page texts, character boxes and scanned images
// (drawn here in a canvas, so the boxes are where the characters are), then
// walks through the client as an archivist, an admin, an evaluator and a
// vendor.  Screenshots of each step go to ARTEFACTS.  Exits non-zero on the
// first failed check; the daemon is always stopped.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { chromium } from "playwright-core";

const INDEXD = process.env.INDEXD;
const ARTEFACTS = process.env.ARTEFACTS || fs.mkdtempSync(path.join(os.tmpdir(), "indexd-e2e-shots-"));
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const T0 = Date.now();

let passed = 0;
function ok(cond, msg) {
  if (!cond) throw new Error(msg);
  passed++;
  console.log(`ok ${passed} - ${msg}`);
}

// Poll fn until it gives a truthy value (returned), or fail with msg.
async function until(fn, msg, ms = 8000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`${msg} (waited ${ms} ms; last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let nShot = 0;
async function shot(page, name, opts) {
  const f = path.join(ARTEFACTS, `${String(++nShot).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: f, fullPage: true, ...opts });
  return f;
}

/* ---- the data ----------------------------------------------------------- */

const ID_A = "110101199003071234", ID_A_MASKED = "110101********1234";
const ID_H = "110101198502154321", ID_H_MASKED = "110101********4321";
const PASS = { admin: "admin-Pw-2024", li: "li-Pw-2024", ping: "ping-Pw-2024", vendor: "vendor-Pw-2024" };
const A = "Z031-WS·2017-Y-BGS-0001", B = "Z031-WS·2017-Y-BGS-0002";
const H = "Z031-FH·2017-Y-BGS-0001", S = "Z031-WS·2018-Y-BGS-0001";
const PHRASE = "易地扶贫搬迁";
const RECORDS = {
  [A]: {
    record: { title: "关于印发易地扶贫搬迁实施方案的通知", author: "某县扶贫开发领导小组办公室", doc_no: "某扶组办〔2017〕5号",
      date: "20170305", pages: 1, carrier: "纸质", classification: "公开", location: "1号库-3列-2节-4层-015盒" },
    text: "某县扶贫开发领导小组办公室\n关于印发易地扶贫搬迁实施方案的通知\n各乡镇人民政府：\n" +
      "现将易地扶贫搬迁实施方案印发给你们，\n请认真贯彻执行。\n联系人身份证号：\n" + ID_A,
  },
  [B]: {
    record: { title: "关于成立脱贫攻坚领导小组的通知", author: "某县人民政府办公室", date: "20170412", pages: 2,
      carrier: "纸质", location: "1号库-3列-2节-4层-016盒" },
  },
  [H]: {
    record: { title: "贫困户张三家庭档案", author: "某镇人民政府", date: "20170620", pages: 1, carrier: "纸质",
      location: "2号库-1列-1节-2层-101盒" },
    text: "贫困人口入户调查表\n户主：张三　家庭人口：4人\n身份证号：\n" + ID_H + "\n致贫原因：因病\n帮扶措施：易地扶贫搬迁、小额信贷",
  },
  [S]: {
    record: { title: "关于专项资金审计整改情况的报告", author: "某县审计局", date: "20180901", pages: 1, carrier: "纸质",
      classification: "秘密", location: "3号库-1列-1节-1层-001盒" },
    text: "关于专项资金审计整改情况的报告\n整改已全部完成。",
    noImage: true,
  },
};

// The page is drawn on a grid: every character in a CELL x CELL square,
// so the boxes sent with the text are exactly where the glyphs are.
const W = 1240, HGT = 1754, LEFT = 100, TOP = 150, CELL = 48, GLYPH = 44, LINE = 72;
function layout(text) {
  const boxes = [];
  let off = 0, line = 0, col = 0;
  for (const ch of Array.from(text)) {
    if (ch === "\n") {
      line++;
      col = 0;
    } else {
      if (ch.trim() && ch !== "　") boxes.push([LEFT + col * CELL, TOP + line * LINE, GLYPH, GLYPH, off]);
      col++;
    }
    off += Buffer.byteLength(ch);
  }
  return boxes;
}

async function drawPage(browser, text, boxes) {
  const page = await browser.newPage({ viewport: { width: 400, height: 300 } });
  const url = await page.evaluate(({ text, boxes, W, H, GLYPH }) => {
    const c = document.createElement("canvas");
    c.width = W;
    c.height = H;
    const g = c.getContext("2d");
    g.fillStyle = "#fbfaf5";
    g.fillRect(0, 0, W, H);
    g.fillStyle = "#111";
    g.font = `${GLYPH}px "Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", sans-serif`;
    g.textBaseline = "top";
    const chars = [];
    let off = 0;
    for (const ch of Array.from(text)) {
      chars.push([off, ch]);
      off += new TextEncoder().encode(ch).length;
    }
    const at = new Map(chars);
    for (const [x, y, w, , o] of boxes) {
      const ch = at.get(o);
      g.fillText(ch, x + (w - g.measureText(ch).width) / 2, y);
    }
    return c.toDataURL("image/png");
  }, { text, boxes, W, H: HGT, GLYPH });
  await page.close();
  return Buffer.from(url.split(",")[1], "base64");
}

/* ---- the daemon --------------------------------------------------------- */

function users(args, input, dataDir) {
  const r = spawnSync(INDEXD, ["users", ...args, "--data-dir", dataDir], { input, encoding: "utf8", timeout: 30000 });
  if (r.status !== 0) throw new Error(`indexd users ${args.join(" ")} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

function startDaemon(dataDir) {
  const proc = spawn(INDEXD, ["--data-dir", dataDir, "--port", "0", "--listen", "127.0.0.1"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d) => { stderr += d; });
  const lines = readline.createInterface({ input: proc.stdout });
  const base = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("indexd did not print its address within 20 s: " + stderr)), 20000);
    lines.once("line", (line) => {
      clearTimeout(timer);
      const m = /^indexd：检索服务已启动，共 \d+ 件档案，.*地址 (http:\/\/127\.0\.0\.1:\d+)\/$/.exec(line.trim());
      if (m) resolve(m[1]); else reject(new Error(`unexpected first line from indexd: ${JSON.stringify(line)} ${stderr}`));
    });
    proc.once("exit", (code) => reject(new Error(`indexd exited (${code}) before serving: ${stderr}`)));
  });
  lines.on("line", () => {});  // keep draining stdout
  return { proc, base, stderr: () => stderr };
}

// SIGTERM, as an operator stops it; how it ended: {code, signal}.
async function stopDaemon(d) {
  if (d.proc.exitCode === null && !d.proc.signalCode) {
    const gone = new Promise((r) => d.proc.once("exit", r));
    d.proc.kill("SIGTERM");
    const t = setTimeout(() => d.proc.kill("SIGKILL"), 15000);
    await gone;
    clearTimeout(t);
  }
  return { code: d.proc.exitCode, signal: d.proc.signalCode };
}

/* ---- the walk ------------------------------------------------------------ */

async function main() {
  if (!INDEXD || !fs.existsSync(INDEXD)) throw new Error("set INDEXD to the built indexd binary");
  fs.mkdirSync(ARTEFACTS, { recursive: true });
  for (const f of fs.readdirSync(ARTEFACTS)) if (/^\d\d-.*\.png$/.test(f)) fs.rmSync(path.join(ARTEFACTS, f));  // a previous run's
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "indexd-e2e-"));
  const dataDir = path.join(tmp, "index");
  fs.mkdirSync(dataDir);
  let daemon = null, browser = null, end = null;
  try {
    users(["add", "admin", "--role", "admin"], PASS.admin + "\n", dataDir);
    users(["add", "li", "--role", "archivist"], PASS.li + "\n", dataDir);
    users(["add", "ping", "--role", "evaluator"], PASS.ping + "\n", dataDir);
    users(["add", "vendor", "--role", "vendor"], PASS.vendor + "\n", dataDir);
    const token = users(["token", "admin", "--purpose", "测试"], "", dataDir).trim().split("\n").pop().trim();
    ok(token.length >= 16 && !/\s/.test(token), "indexd users token prints a token on its last line");

    daemon = startDaemon(dataDir);
    const base = await daemon.base;
    console.log(`# indexd at ${base}, data in ${dataDir}, screenshots in ${ARTEFACTS}`);
    browser = await chromium.launch({ executablePath: CHROMIUM });

    const call = async (method, p, body, headers) => {
      const r = await fetch(base + p, { method, body, headers: { Authorization: `Bearer ${token}`, ...headers } });
      const t = await r.text();
      let j = null;
      try { j = JSON.parse(t); } catch (e) { /* not JSON */ }
      return { status: r.status, json: j, text: t };
    };
    const rec = (code) => "/api/v1/records/" + encodeURIComponent(code);

    // Load the records, pages and scans as the admin's script would.
    const layouts = {};
    for (const [code, d] of Object.entries(RECORDS)) {
      let r = await call("PUT", rec(code), JSON.stringify(d.record), { "Content-Type": "application/json" });
      ok(r.status === 200 || r.status === 201, `PUT record ${code} as admin: ${r.status} ${r.text.slice(0, 200)}`);
      if (!d.text) continue;
      const boxes = layouts[code] = layout(d.text);
      const page = { text: d.text, source: "ocr", confidence: 93, skew: 0, dpi: 150, blank: false };
      if (!d.noImage) Object.assign(page, { width: W, height: HGT, web_width: W, boxes });
      r = await call("PUT", rec(code) + "/pages/1", JSON.stringify(page), { "Content-Type": "application/json" });
      ok(r.status === 200 || r.status === 201, `PUT page 1 of ${code}: ${r.status} ${r.text.slice(0, 200)}`);
      if (d.noImage) continue;
      const png = await drawPage(browser, d.text, boxes);
      r = await call("PUT", rec(code) + "/pages/1/image", png, { "Content-Type": "image/png" });
      ok((r.status === 200 || r.status === 201) && r.json && r.json.bytes === png.length, `PUT the scan of ${code} (${png.length} bytes): ${r.status} ${r.text.slice(0, 200)}`);
    }

    // A vendor's delivery as ingest reports it: one catalog row without scans.
    const DELIVERY = "2017年第1批";
    let r = await call("PUT", "/api/v1/deliveries/" + encodeURIComponent(DELIVERY), JSON.stringify({ folder: "/交付/2017-01", catalog: null,
      scans: { files: 3, items: 3, pages: 3 }, problems: { catalog_rows_without_scans: [{ code: B }] } }), { "Content-Type": "application/json" });
    ok(r.status === 200 || r.status === 201, `PUT a delivery's account: ${r.status} ${r.text.slice(0, 200)}`);

    // Nobody: no session, no token.

    r = await fetch(base + "/api/v1/search?q=" + encodeURIComponent(PHRASE));
    ok(r.status === 401, `unauthenticated GET /api/v1/search answers 401 (got ${r.status})`);
    r = await fetch(base + "/healthz");
    ok(r.status === 200, `GET /healthz needs no login (got ${r.status})`);

    /* -- li, the archivist, in a fresh browser context ------------------- */
    const liCtx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "zh-CN" });
    const li = await liCtx.newPage();
    const jsErrors = [];
    li.on("pageerror", (e) => jsErrors.push(e.message));
    await li.goto(base + "/", { waitUntil: "load" });
    const nav = await li.evaluate(() => {
      const n = performance.getEntriesByType("navigation")[0];
      return { load: n.loadEventEnd, dcl: n.domContentLoadedEventEnd, bytes: n.transferSize };
    });
    console.log(`first page load: ${Math.round(nav.load)} ms (DOMContentLoaded ${Math.round(nav.dcl)} ms, fresh context, empty cache)`);
    ok(nav.load > 0 && nav.load < 5000, `first page load finishes (${Math.round(nav.load)} ms)`);

    await li.locator("#loginform").waitFor({ state: "visible" });
    ok(!(await li.locator("#q").isVisible()), "before login the search box is hidden and the login form shown");
    await shot(li, "login");

    await li.fill("#lu", "li");
    await li.fill("#lp", "wrong-password");
    await li.click("#loginform button[type=submit]");
    await until(async () => /用户名或密码错误/.test(await li.textContent("#login-msg")), "a wrong password says 用户名或密码错误");
    ok(true, "a wrong password shows 用户名或密码错误");
    await shot(li, "login-wrong-password");

    await li.fill("#lu", "li");
    await li.fill("#lp", PASS.li);
    await li.click("#loginform button[type=submit]");
    await li.locator("#who").waitFor({ state: "visible" });
    ok((await li.textContent("#who-name")) === "li" && (await li.textContent("#who-role")) === "档案员",
      `after login the header shows li（档案员） (got ${(await li.textContent("#who")).replace(/\s+/g, " ")})`);
    ok(await li.locator("#logout").isVisible(), "the header has a 退出 button");
    const cookie = (await liCtx.cookies()).find((c) => c.name === "indexd_session");
    ok(cookie && cookie.httpOnly && cookie.sameSite === "Strict" && cookie.path === "/",
      `the session cookie is HttpOnly, SameSite=Strict, Path=/ (got ${JSON.stringify(cookie && { httpOnly: cookie.httpOnly, sameSite: cookie.sameSite, path: cookie.path })})`);
    const liReports = await li.locator("#reports a").allTextContents();
    ok(["数字化率", "目录检查", "统计台账", "利用时效测试", "验收"].every((x) => liReports.includes(x)),
      `an archivist sees every report link (got ${liReports.join("、")})`);
    const liViews = await li.locator("#nav-views a").allTextContents();
    ok(liViews.includes("利用登记") && !liViews.includes("审批"), `an archivist has 利用登记 and no 审批 page (got ${liViews.join("、")})`);

    // Search a phrase; a 秘密 record stays out of the archivist's hits.
    const seen = [];
    li.on("request", (q) => seen.push(decodeURIComponent(q.url())));
    await li.fill("#q", `"${PHRASE}"`);
    await li.press("#q", "Enter");
    await li.locator(".hit").first().waitFor();
    const hits = await li.locator(".hit h2 a").allTextContents();
    ok(hits.includes(RECORDS[A].record.title), `searching "${PHRASE}" finds ${A} (hits: ${hits.join(" | ")})`);
    ok(await li.locator(".hit mark").count() > 0, "the snippet marks the phrase");
    await shot(li, "search");

    await li.fill("#q", "专项资金审计整改");
    await li.press("#q", "Enter");
    await until(async () => /^0 件/.test((await li.textContent("#results .summary")) || ""), "the 秘密 record is not found by an archivist of clearance 公开");
    ok(true, "a 秘密 record is invisible to an archivist with clearance 公开");
    r = await call("GET", "/api/v1/search?q=" + encodeURIComponent("专项资金审计整改"));
    ok(r.status === 200 && r.json.total === 1, `the admin (clearance 绝密) finds the 秘密 record (total ${r.json && r.json.total})`);

    // Open the record: a purpose is asked for before its pages.
    await li.fill("#q", `"${PHRASE}"`);
    await li.press("#q", "Enter");
    await until(async () => (await li.locator(".hit h2 a", { hasText: RECORDS[A].record.title }).count()) > 0, "the hit comes back");
    const beforeOpen = seen.length;
    await li.click(`.hit h2 a[data-code="${A}"]`);
    await li.locator("#purpose").waitFor({ state: "visible" });
    ok(!seen.slice(beforeOpen).some((u) => u.includes(A + "/pages/")), "no page of the record is asked for before a purpose is given");
    ok((await li.textContent("#who-purpose")) === "未填写", "the header says the purpose is 未填写");
    await shot(li, "purpose-form");
    await li.selectOption("#pp-kind", "工作查考");
    await li.fill("#pp-text", "核实搬迁户信息");
    await li.click("#purposeform button[type=submit]");
    await li.locator("#purpose").waitFor({ state: "hidden" });
    ok((await li.textContent("#who-purpose")) === "工作查考：核实搬迁户信息", "the header shows the purpose given");
    r = await li.evaluate(async () => (await fetch("/api/v1/me")).json());
    ok(r.purpose === "工作查考：核实搬迁户信息", `GET /api/v1/me remembers the purpose (got ${r.purpose})`);

    // The page: text with the ID number masked, the scan with the hit boxed.
    await li.locator(".page-text").first().waitFor();
    const text = await li.textContent(".page-text");
    ok(text.includes(ID_A_MASKED) && !text.includes(ID_A), `the ID number is masked as ${ID_A_MASKED} in the page text`);
    const img = li.locator(".scan img").first();
    await img.scrollIntoViewIfNeeded();
    await until(() => img.evaluate((e) => e.complete && e.naturalWidth > 0), "the scan image loads");
    ok(await img.evaluate((e) => e.naturalWidth) === W, "the scan is the image that was stored");
    const nbox = await li.locator(".scan .hitbox").count();
    ok(nbox === 2, `two hit boxes for the two lines holding ${PHRASE} (got ${nbox})`);
    const ir = await img.boundingBox();
    const hb = await li.locator(".scan .hitbox").first().boundingBox();
    const inside = hb.x >= ir.x - 1 && hb.y >= ir.y - 1 && hb.x + hb.width <= ir.x + ir.width + 1 && hb.y + hb.height <= ir.y + ir.height + 1;
    ok(inside && hb.width > 0 && hb.height > 0, "the hit box lies over the scan image");
    // where the phrase was drawn: line 2, characters 5..10
    const k = ir.width / W, col = 4, lineNo = 1;
    const want = { x: ir.x + (LEFT + col * CELL) * k, y: ir.y + (TOP + lineNo * LINE) * k, w: (5 * CELL + GLYPH) * k, h: GLYPH * k };
    const near = (a, b) => Math.abs(a - b) <= 3;
    ok(near(hb.x, want.x) && near(hb.y, want.y) && near(hb.width, want.w) && near(hb.height, want.h),
      `the hit box covers the drawn phrase (box ${JSON.stringify(hb)}, expected ${JSON.stringify(want)})`);
    await shot(li, "record-hitbox");

    // Zoom with the keyboard.
    await li.focus(".scan");
    await li.keyboard.press("Enter");
    ok(await li.locator(".scan.zoom").count() === 1, "Enter on the focused scan zooms it");
    await li.keyboard.press("Enter");

    // The retrieval slip (调档单).
    await li.evaluate(() => { window.__printed = 0; window.print = () => { window.__printed++; }; });
    await li.fill("#asker", "王会计");
    await li.click("#slipform button[type=submit]");
    ok(await li.evaluate(() => window.__printed) === 1, "打印调档单 calls window.print once");
    const slip = await li.textContent("#slip");
    ok(slip.includes(A) && slip.includes(RECORDS[A].record.location) && slip.includes("王会计") && slip.includes("工作查考"),
      "the slip holds the 档号, the store location, who asked and the purpose");
    await li.emulateMedia({ media: "print" });
    ok(await li.locator("#slip").isVisible() && !(await li.locator("header").isVisible()), "in print only the slip is shown");
    await shot(li, "slip-print", { fullPage: false });
    await li.pdf({ path: path.join(ARTEFACTS, "slip.pdf"), format: "A4" });
    await li.emulateMedia({ media: "screen" });

    // A write without the session's CSRF token is refused.
    r = await li.evaluate(async () => (await fetch("/api/v1/me/purpose", { method: "PUT", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ purpose: "无令牌" }) })).status);
    ok(r === 403, `a PUT with the session cookie but no X-CSRF-Token answers 403 (got ${r})`);

    // An image the daemon refuses: a message in place of the scan.
    await li.route("**/pages/1/image", (route) => route.fulfill({ status: 403, contentType: "application/json",
      body: JSON.stringify({ error: { status: "approval_required", code: 20, message: "approval required" } }) }));
    await li.evaluate(() => { location.hash = location.hash + "&x=1"; });
    await until(async () => /扫描件无法显示：本件须经管理员审批/.test((await li.textContent("#pages")) || ""),
      "a refused scan says why in Chinese");
    ok(true, "a 403 on a scan is shown as 扫描件无法显示：本件须经管理员审批后才能查看页面");
    await li.unroute("**/pages/1/image");

    // The report links open.
    for (const name of ["数字化率", "统计台账"]) {
      const href = await li.locator("#reports a", { hasText: name }).getAttribute("href");
      r = await li.evaluate(async (u) => { const x = await fetch(u); return { s: x.status, t: x.headers.get("Content-Type") || "" }; }, href);
      ok(r.s === 200 && /html/.test(r.t), `the ${name} link answers a printable page (got ${r.s} ${r.t})`);
    }

    // The use register shows the view.
    await li.click("#nav-views a:text('利用登记')");
    await li.locator("#register").waitFor();
    const rows = await li.locator("#register tbody tr").allTextContents();
    const mine = rows.filter((t) => t.includes(A) && t.includes("li") && t.includes("工作查考：核实搬迁户信息"));
    ok(mine.some((t) => t.includes("文本")) && mine.some((t) => t.includes("图像")),
      `the register lists li's text and image views of ${A} with the purpose (rows: ${rows.length})`);
    await shot(li, "register");
    const csvHref = await li.getAttribute("#reg-csv", "href");
    const htmlHref = await li.getAttribute("#reg-html", "href");
    r = await li.evaluate(async (u) => { const x = await fetch(u); return { s: x.status, t: x.headers.get("Content-Type"), b: await x.text() }; }, csvHref);
    ok(r.s === 200 && r.b.includes(A), `the register's CSV link answers the entries (${r.s} ${r.t})`);
    r = await li.evaluate(async (u) => { const x = await fetch(u); return { s: x.status, b: await x.text() }; }, htmlHref);
    ok(r.s === 200 && r.b.includes("利用登记簿") && r.b.includes(A), `the printable 利用登记簿 answers (${r.s})`);

    // The household record needs approval: no pages until an admin says yes.
    const beforeH = seen.length;
    await li.evaluate((c) => { location.hash = "record=" + encodeURIComponent(c); }, H);
    await li.locator(".approval").waitFor();
    ok(/需审批/.test(await li.textContent(".approval")) && /未申请/.test(await li.textContent(".approval .ap-status")),
      "the household record says 需审批, status 未申请");
    ok(await li.locator("#pages .page-text, #pages .scan").count() === 0, "no page is shown before approval");
    ok(!seen.slice(beforeH).some((u) => u.includes(H + "/pages/")), "no page of the household record was fetched");
    r = await li.evaluate(async (c) => { const x = await fetch(`/api/v1/records/${encodeURIComponent(c)}/pages/1`); return { s: x.status, j: await x.json() }; }, H);
    ok(r.s === 403 && r.j.error && r.j.error.status === "approval_required", `fetching its page anyway answers 403 approval_required (got ${r.s} ${JSON.stringify(r.j).slice(0, 120)})`);
    await shot(li, "household-needs-approval");
    await li.click("#approvalform button[type=submit]");
    await until(async () => /待审批/.test(await li.textContent(".approval .ap-status")), "after the request the status is 待审批");
    ok(true, "requesting approval shows 待审批");
    await shot(li, "household-pending");

    /* -- the admin approves ------------------------------------------------ */
    const adCtx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "zh-CN" });
    const ad = await adCtx.newPage();
    ad.on("pageerror", (e) => jsErrors.push("admin: " + e.message));
    await ad.goto(base + "/");
    await ad.fill("#lu", "admin");
    await ad.fill("#lp", PASS.admin);
    await ad.click("#loginform button[type=submit]");
    await ad.locator("#who").waitFor({ state: "visible" });
    ok((await ad.textContent("#who-role")) === "管理员", "the admin's header says 管理员");
    await ad.click("#nav-views a:text('审批')");
    const row = ad.locator("tr.ap-row", { hasText: H });
    await row.waitFor();
    ok(/待审批/.test(await row.locator(".ap-status").textContent()) && (await row.textContent()).includes("li"),
      "the admin sees li's pending request");
    ok(await ad.locator("tr.ap-row").first().evaluate((e) => e.classList.contains("ap-pending")), "pending requests come first");
    await shot(ad, "admin-approvals");
    await row.locator(".ap-note").fill("同意查阅");
    await row.locator('button[data-decide="1"]').click();
    await until(async () => /已批准/.test(await ad.locator("tr.ap-row", { hasText: H }).locator(".ap-status").textContent()), "the request turns 已批准");
    ok(true, "批准 turns the request 已批准");
    await shot(ad, "admin-approved");
    r = await call("GET", rec(H) + "/pages/1?purpose=" + encodeURIComponent("测试"));
    ok(r.status === 200 && r.json.text.includes(ID_H), "the admin (ids right) reads the unmasked ID number");

    /* -- li sees the pages now --------------------------------------------- */
    await li.click("#ap-refresh");
    await li.locator("#pages .page-text").first().waitFor();
    const htext = await li.textContent("#pages .page-text");
    ok(htext.includes("贫困人口入户调查表") && htext.includes(ID_H_MASKED) && !htext.includes(ID_H),
      "after approval li sees the household page, the ID number masked");
    await until(() => li.locator(".scan img").first().evaluate((e) => e.complete && e.naturalWidth > 0), "the household scan loads");
    await shot(li, "household-approved");
    r = await li.evaluate(async () => (await fetch("/api/v1/register?format=json&limit=100")).json());
    const hv = (r.entries || []).filter((e) => e.code === H && e.user === "li");
    ok(hv.length >= 1 && hv.every((e) => e.approval), `li's views of the household record are registered with the approval (${hv.length})`);

    /* -- the evaluator may not decide ------------------------------------- */
    const evCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const ev = await evCtx.newPage();
    ev.on("pageerror", (e) => jsErrors.push("evaluator: " + e.message));
    await ev.goto(base + "/");
    await ev.fill("#lu", "ping");
    await ev.fill("#lp", PASS.ping);
    await ev.click("#loginform button[type=submit]");
    await ev.locator("#who").waitFor({ state: "visible" });
    ok((await ev.textContent("#who-role")) === "评估员", "the evaluator's header says 评估员");
    const evViews = await ev.locator("#nav-views a").allTextContents();
    ok(!evViews.includes("审批") && evViews.includes("我的审批申请"), `the evaluator has no 审批 page (got ${evViews.join("、")})`);
    const apId = (await call("GET", "/api/v1/approvals")).json.approvals.find((x) => x.code === H).id;
    r = await ev.evaluate(async (id) => {
      const me = await (await fetch("/api/v1/me")).json();
      const x = await fetch(`/api/v1/approvals/${id}/decision`, { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": me.csrf },
        body: JSON.stringify({ approve: false }) });
      return x.status;
    }, apId);
    ok(r === 403, `an evaluator's decision answers 403 (got ${r})`);
    // ping asks too; the admin says no; ping sees 未批准 and may ask again.
    await ev.evaluate((c) => { location.hash = "record=" + encodeURIComponent(c); }, H);
    await ev.locator("#approvalform").waitFor();
    await ev.fill("#ap-purpose", "评估检查：抽查分户档案");
    await ev.click("#approvalform button[type=submit]");
    await until(async () => /待审批/.test(await ev.textContent(".approval .ap-status")), "ping's request is 待审批");
    await ad.click("#nav-views a:text('审批')");
    const prow = ad.locator("tr.ap-row", { hasText: "评估检查：抽查分户档案" });
    await prow.waitFor();
    ok(await ad.locator("tr.ap-row").first().evaluate((e, t) => e.textContent.includes(t), "评估检查：抽查分户档案"),
      "clicking 审批 again shows the new pending request first");
    await prow.locator(".ap-note").fill("非评估抽查范围");
    await prow.locator('button[data-decide="0"]').click();
    await until(async () => /未批准/.test(await ad.locator("tr.ap-row", { hasText: "评估检查：抽查分户档案" }).locator(".ap-status").textContent()), "the request turns 未批准");
    await ev.click("#ap-refresh");
    await until(async () => /未批准/.test(await ev.textContent(".approval .ap-status")), "ping sees 未批准");
    ok(/重新申请审批/.test(await ev.textContent("#approvalform")) && await ev.locator("#pages .page-text").count() === 0,
      "a denied request shows 未批准, no pages, and offers 重新申请审批");
    await until(async () => /意见：非评估抽查范围/.test(await ev.textContent("#ap-note")), "the admin's note is shown to ping");
    ok(true, "the requester sees the admin's note (意见：非评估抽查范围)");
    await shot(ev, "evaluator-denied");
    await evCtx.close();

    /* -- the vendor -------------------------------------------------------- */
    const veCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const ve = await veCtx.newPage();
    ve.on("pageerror", (e) => jsErrors.push("vendor: " + e.message));
    await ve.goto(base + "/");
    await ve.fill("#lu", "vendor");
    await ve.fill("#lp", PASS.vendor);
    await ve.click("#loginform button[type=submit]");
    await ve.locator("#who").waitFor({ state: "visible" });
    await ve.locator("#panel h2").waitFor();
    ok((await ve.textContent("#who-role")) === "数字化厂商", "the vendor's header says 数字化厂商");
    ok(!(await ve.locator("#q").isVisible()) && !(await ve.locator("#f").isVisible()), "the vendor has no search box");
    const veReports = await ve.locator("#reports a").allTextContents();
    ok(veReports.length === 2 && veReports.includes("数字化率") && veReports.includes("验收"), `the vendor sees only 数字化率 and 验收 (got ${veReports.join("、")})`);
    ok(await ve.locator("#nav-views a").count() === 0, "the vendor has no search, register or approval pages");
    r = await ve.evaluate(async () => (await fetch("/api/v1/search?q=x")).status);
    ok(r === 403, `the vendor's fetch of /api/v1/search answers 403 (got ${r})`);
    const drow = ve.locator("#panel tbody tr", { hasText: DELIVERY });
    await drow.waitFor();
    ok(/未通过/.test(await drow.textContent()), "the vendor's 验收 page lists the delivery as 未通过");
    const fetchLink = (pg, loc) => loc.getAttribute("href").then((u) => pg.evaluate(async (u) => {
      const x = await fetch(u);
      return { s: x.status, t: x.headers.get("Content-Type") || "", b: await x.text() };
    }, u));
    r = await fetchLink(ve, drow.locator("a", { hasText: "打印页" }));
    ok(r.s === 200 && /html/.test(r.t) && r.b.includes(DELIVERY), `the vendor opens the delivery's printable acceptance report (got ${r.s} ${r.t})`);
    r = await fetchLink(ve, ve.locator("#reports a", { hasText: "数字化率" }));
    ok(r.s === 200 && /html/.test(r.t), `the vendor opens the printable coverage report (got ${r.s} ${r.t} ${r.b.slice(0, 150)})`);
    r = await ve.evaluate(async (u) => (await fetch(u)).status, rec(A));
    ok(r === 403, `the vendor's fetch of a record answers 403 (got ${r})`);
    await shot(ve, "vendor");
    await veCtx.close();

    /* -- the admin imports a catalog: findings, a conflict, replace ------- */
    const C = "Z031-WS·2017-Y-BGS-0003";
    const catalog = "\ufeff序号,档号,门类,题名,责任者,日期,页数,存放位置\r\n" +
      `1,${A},文书,关于印发易地扶贫搬迁实施方案的通知（修订）,某县扶贫开发领导小组办公室,20170305,1,1号库-3列-2节-4层-015盒\r\n` +
      `2,${C.replace("·", "-")},文书,贫困村退出验收表,某县扶贫办,2017年5月6日,2页,1号库-3列-2节-4层-017盒\r\n` +
      ",合计,,,,,3,\r\n";
    await ad.click("#nav-views a:text('目录导入')");
    await ad.locator("#importform").waitFor();
    await ad.setInputFiles("#imp-file", { name: "目录.csv", mimeType: "text/csv", buffer: Buffer.from(catalog, "utf8") });
    await ad.click("#importform button[type=submit]");
    await ad.locator("#imp-summary").waitFor();
    let sum = await ad.textContent("#imp-summary");
    ok(/导入 1 件/.test(sum) && /冲突 1 行/.test(sum) && /合计行、重复表头等 1 行/.test(sum), `the import's account says 1 imported, 1 conflict, 1 合计 row (got ${sum.replace(/\s+/g, " ")})`);
    const conf = await ad.textContent("#imp-conflicts");
    ok(conf.includes(A) && conf.includes("题名") && conf.includes("（修订）"), "the conflict shows the field, the archive's and the catalog's values");
    const finds = await ad.textContent("#imp-findings");
    ok(finds.includes("日期写法不规范") && finds.includes("2017年5月6日") && finds.includes("20170506") && finds.includes("档号写法不规范"),
      "the findings list what was written and what was understood, in Chinese");
    r = await call("GET", rec(A));
    ok(r.json.title === RECORDS[A].record.title, "by default the archive's record is kept");
    await shot(ad, "admin-import-conflict");
    await ad.click("#imp-do-replace");
    await until(async () => /替换 1 件/.test(await ad.textContent("#imp-summary")), "替换 takes the catalog's row");
    ok(true, "the admin's 替换 button takes the catalog's row");
    r = await call("GET", rec(A));
    ok(r.json.title.endsWith("（修订）") && r.json.history.length === 1, "the record now has the new title and one history entry");
    await ad.goto(base + "/#record=" + encodeURIComponent(A));
    await ad.locator("#history").waitFor();
    const hist = await ad.textContent("#history");
    ok(hist.includes("目录导入") && hist.includes(RECORDS[A].record.title), "the record shows its history: the source and the old title");
    await ad.goto(base + "/#record=" + encodeURIComponent(C));
    await ad.locator("#findings").waitFor();
    const rf = await ad.textContent("#findings");
    ok(rf.includes("日期写法不规范") && rf.includes("页数写法不规范") && rf.includes("2页"), "the new record shows its catalog findings");
    await shot(ad, "record-findings");

    // A scan no catalog row names, as ingest sends it: kept waiting for its row (待挂接).
    const U = "Z031-WS·2017-Y-BGS-0099";
    r = await call("PUT", rec(U) + "/pages/1?unlinked=" + encodeURIComponent("2017年第2批"),
      JSON.stringify({ text: "待挂接的扫描件：危房改造验收单", source: "text" }), { "Content-Type": "application/json" });
    ok(r.status === 201, `a page of a scan without a catalog row makes its record (got ${r.status} ${r.text.slice(0, 120)})`);
    await ad.goto(base + "/#q=" + encodeURIComponent('"危房改造验收单"'));
    await ad.locator(".hit").first().waitFor();
    ok((await ad.textContent(".hit")).includes("待挂接") && (await ad.textContent(".hit")).includes(U), "the admin finds it, marked 待挂接");
    await ad.goto(base + "/#record=" + encodeURIComponent(U));
    await ad.locator("#unlinked").waitFor();
    ok((await ad.textContent("#unlinked")).includes("2017年第2批"), "its record says where the scan came from and that it waits for its row");
    await shot(ad, "record-unlinked");

    /* -- li logs out (in a second tab); too many failed logins -------------- */
    const li2 = await liCtx.newPage();
    await li2.goto(base + "/");
    await li2.locator("#who").waitFor({ state: "visible" });
    ok((await li2.textContent("#who-purpose")) === "工作查考：核实搬迁户信息", "a second tab of the session shows its purpose");
    await li2.click("#logout");
    await li2.locator("#loginform").waitFor({ state: "visible" });
    ok((await li2.textContent("#login-msg")) === "已退出。", "退出 shows the login form, 已退出。");
    await li.click("#nav-views a:text('检索')");
    await li.locator("#loginform").waitFor({ state: "visible" });
    ok(/会话已结束/.test(await li.textContent("#login-msg")), "the first tab, on its next request, asks to log in again (会话已结束)");
    await li2.close();
    r = await li.evaluate(async () => (await fetch("/api/v1/me")).status);
    ok(r === 401, `after 退出 the session is gone (GET /api/v1/me answers ${r})`);
    ok(!(await liCtx.cookies()).some((c) => c.name === "indexd_session" && c.value), "退出 clears the session cookie");
    let msg = "";
    for (let i = 0; i < 8 && !/后再试/.test(msg); i++) {
      await li.fill("#lu", "nobody");
      await li.fill("#lp", "wrong-" + i);
      await li.click("#loginform button[type=submit]");
      await until(async () => (msg = await li.textContent("#login-msg")) !== "", "a failed login says why");
      if (!/后再试/.test(msg)) await li.evaluate(() => { document.getElementById("login-msg").textContent = ""; });
    }
    ok(/登录失败次数过多，请 \d+ (秒|分钟)后再试/.test(msg), `repeated failures show the wait (got ${msg})`);
    await shot(li, "login-too-many");
    ok(jsErrors.length === 0, `no script errors in the pages (${jsErrors.join("; ")})`);
    await liCtx.close();
    await adCtx.close();
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (daemon) end = await stopDaemon(daemon);
    if (daemon && daemon.stderr().trim()) fs.writeFileSync(path.join(ARTEFACTS, "indexd.stderr.txt"), daemon.stderr());
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  // A crash, or a sanitizer's report at exit (a leak), is a failure too.
  const why = daemon.stderr().split("\n").filter((l) => /Sanitizer|runtime error|SUMMARY/.test(l)).slice(0, 6).join(" | ");
  ok(end.code === 0 && !end.signal, `indexd stopped cleanly on SIGTERM (exit ${end.code}${end.signal ? ", " + end.signal : ""}${why ? "; " + why : ""})`);
}

try {
  await main();
  console.log(`# ${((Date.now() - T0) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, 0 failed`);
} catch (e) {
  console.error(`FAILED: ${e.message}`);
  console.log(`${passed} passed, 1 failed`);
  process.exitCode = 1;
}
