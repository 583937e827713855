// How fast the web client's first page loads in a browser with an empty
// cache, over loopback, as on the archive's office PCs: the login page, and
// after login the first page of results; each measured in a fresh browser
// context (no cache, no cookies), at full speed and with the CPU slowed 4x
// (an old office PC).  "shown" is the time from the start of navigation to
// the first frame showing the element, read by the page itself; the load
// event is the browser's own figure.  Prints the figures; asserts nothing
// about them.
//
//   INDEXD=build/indexd/indexd node bench/web_load.mjs [--runs 20]
//
// Needs Debian's chromium and tests/e2e's node_modules (npm ci --prefix tests/e2e).
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { createRequire } from "node:module";

const here = path.dirname(new URL(import.meta.url).pathname);
const require = createRequire(path.join(here, "..", "tests", "e2e", "package.json"));
const { chromium } = require("playwright-core");

const INDEXD = process.env.INDEXD || path.join(here, "..", "build", "indexd", "indexd");
const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;
const PASSWORD = "bench-password-1";

function users(dir, ...args) {
  const r = spawnSync(INDEXD, ["users", ...args, "--data-dir", dir], { input: PASSWORD + "\n", encoding: "utf8" });
  if (r.status !== 0) throw new Error(`indexd users ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim().split("\n").pop();
}

async function startDaemon(dir) {
  const p = spawn(INDEXD, ["--data-dir", dir, "--port", "0", "--listen", "127.0.0.1"], { stdio: ["ignore", "pipe", "pipe"] });
  const line = await new Promise((resolve, reject) => {
    readline.createInterface({ input: p.stdout }).once("line", resolve);
    p.once("exit", (c) => reject(new Error(`indexd exited with ${c}`)));
  });
  const m = /(http:\/\/[^\s，]+?)\/?$/.exec(line.trim());
  if (!m) throw new Error(`indexd did not start: ${line}`);
  return { proc: p, base: m[1] };
}

// The bundled sample: its catalog and page texts.
async function load(base, token) {
  const h = { Authorization: `Bearer ${token}` };
  const csv = fs.readFileSync(path.join(here, "..", "samples", "catalog.csv"));
  let r = await fetch(`${base}/api/v1/catalog`, { method: "POST", headers: { ...h, "Content-Type": "text/csv" }, body: csv });
  if (!r.ok) throw new Error(`catalog import: ${r.status}`);
  for (const line of fs.readFileSync(path.join(here, "..", "samples", "pages.ndjson"), "utf8").split("\n")) {
    if (!line.trim()) continue;
    const p = JSON.parse(line);
    r = await fetch(`${base}/api/v1/records/${encodeURIComponent(p.code)}/pages/${p.n}`,
      { method: "PUT", headers: { ...h, "Content-Type": "application/json" }, body: JSON.stringify({ text: p.text }) });
    if (!r.ok) throw new Error(`page ${p.code}/${p.n}: ${r.status}`);
  }
}

function stats(a) {
  const s = [...a].sort((x, y) => x - y);
  const q = (f) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return `median ${q(0.5).toFixed(0)} ms, p95 ${q(0.95).toFixed(0)} ms, max ${s[s.length - 1].toFixed(0)} ms`;
}

// Milliseconds from the start of navigation to the first frame in which the
// element is visible, read by the page itself.
async function shownAt(page, sel) {
  const h = await page.waitForFunction((q) => {
    const e = document.querySelector(q);
    return e && e.offsetParent !== null && performance.now();
  }, sel, { polling: "raf", timeout: 30000 });
  return h.jsonValue();
}

async function measure(browser, base, cookie, cpu) {
  const login = [], results = [], nav = [];
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    // the login page, cold
    let ctx = await browser.newContext();
    let page = await ctx.newPage();
    let cdp = await ctx.newCDPSession(page);
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    if (cpu > 1) await cdp.send("Emulation.setCPUThrottlingRate", { rate: cpu });
    await page.goto(base + "/", { waitUntil: "commit" });
    login.push(await shownAt(page, "#loginform"));
    nav.push(await page.evaluate(() => performance.getEntriesByType("navigation")[0].loadEventEnd));
    await ctx.close();
    // logged in: the first page of results for a query, cold
    ctx = await browser.newContext();
    await ctx.addCookies([{ name: "indexd_session", value: cookie, url: base }]);
    page = await ctx.newPage();
    cdp = await ctx.newCDPSession(page);
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    if (cpu > 1) await cdp.send("Emulation.setCPUThrottlingRate", { rate: cpu });
    await page.goto(base + "/#q=" + encodeURIComponent('"精准扶贫"'), { waitUntil: "commit" });
    results.push(await shownAt(page, ".hit"));
    bytes = await page.evaluate(() => [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
      .reduce((n, e) => n + (e.transferSize || 0), 0));
    await ctx.close();
  }
  return { login, results, nav, bytes };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "web-load-"));
let d;
try {
  users(dir, "add", "bench", "--role", "archivist");
  const admin = (users(dir, "add", "loader", "--role", "admin"), users(dir, "token", "loader", "--purpose", "样例导入"));
  d = await startDaemon(dir);
  await load(d.base, admin);
  const r = await fetch(`${d.base}/api/v1/login`, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: "bench", password: PASSWORD }) });
  const cookie = /indexd_session=([0-9a-f]+)/.exec(r.headers.get("set-cookie"))[1];
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium" });
  try {
    for (const cpu of [1, 4]) {
      const m = await measure(browser, d.base, cookie, cpu);
      const label = cpu === 1 ? "full speed" : "CPU slowed 4x";
      console.log(`web client, ${RUNS} cold loads each, ${label}:`);
      console.log(`  load event (navigation):     ${stats(m.nav)}`);
      console.log(`  login page shown:            ${stats(m.login)}`);
      console.log(`  first results page shown:    ${stats(m.results)}  (${(m.bytes / 1024).toFixed(0)} KiB transferred)`);
    }
  } finally {
    await browser.close();
  }
} finally {
  if (d) d.proc.kill("SIGTERM");
  fs.rmSync(dir, { recursive: true, force: true });
}
