// The thin client: log-in, one search box, facets, results, a record with
// its store location and pages, the purpose of use, approvals, the use
// register and the reports a role may see.  Plain DOM, no build step, for
// old office PCs.
"use strict";
const $ = (id) => document.getElementById(id);
const FACETS = [["fonds", "全宗"], ["category", "门类"], ["year", "年度"], ["retention", "保管期限"], ["carrier", "载体"]];
const RET = { Y: "永久", D30: "30年", D10: "10年" };
const AP_STATUS = { none: "未申请", pending: "待审批", approved: "已批准", denied: "未批准" };
const KIND = { text: "文本", image: "图像", export: "导出" };
const SEVERITY = { note: "说明", warning: "提示", error: "不规范" };
const REPORTS = [["coverage", "数字化率"], ["catalog", "目录检查"], ["ledger", "统计台账"], ["timed-tests", "利用时效测试"]];
const state = { q: "", sort: "relevance", offset: 0, limit: 20, filters: {}, seq: 0, record: null };
let me = null;  // the caller (GET /api/v1/me); {anonymous: true} when the daemon has no access control

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function when(s) {  // "2026-11-23T10:01:02+08:00" as the archive writes it
  return String(s ?? "").replace("T", " ").replace(/([+-]\d\d:\d\d|Z)$/, "");
}

function wait(seconds) {
  const s = Math.max(1, Math.ceil(+seconds || 0));
  return s < 120 ? `${s} 秒` : `${Math.ceil(s / 60)} 分钟`;
}

/* ---- the API ----------------------------------------------------------- */

// A failed answer as an Error with the HTTP code, the daemon's status name
// and a message in Chinese for the statuses a user meets.
function apiError(http, body, retry) {
  const er = (body && body.error) || {};
  const e = new Error(er.message || (http ? "HTTP " + http : "无法连接检索服务"));
  e.http = http;
  e.status = er.status || "";
  e.retry = retry;
  return e;
}

function cnError(e) {
  switch (e.status) {
  case "unauthorized": return "未登录或会话已结束，请重新登录。";
  case "approval_required": return "本件须经管理员审批后才能查看页面。";
  case "purpose_required": return "查看页面前须填写利用目的。";
  case "forbidden": return `当前角色（${me && me.role_cn || ""}）无权进行此操作。`;
  case "too_many": return `登录失败次数过多，请 ${wait(e.retry)}后再试。`;
  case "not_found": return "未找到：" + e.message;
  }
  if (!e.http) return "无法连接检索服务，请检查网络或联系管理员。";
  return e.message;
}

async function api(path, opts) {
  opts = opts || {};
  const method = opts.method || "GET";
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET" && me && me.csrf) init.headers["X-CSRF-Token"] = me.csrf;
  if (opts.raw !== undefined) {  // a file as it is (a catalog CSV in whatever encoding)
    init.headers["Content-Type"] = opts.type || "application/octet-stream";
    init.body = opts.raw;
  } else if (opts.body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(opts.body);
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch (err) {
    throw apiError(0, null, null);
  }
  let body = null;
  try { body = await r.json(); } catch (err) { /* not JSON */ }
  if (!r.ok) {
    const e = apiError(r.status, body, r.headers.get("Retry-After"));
    if (r.status === 401 && !opts.login && me && !me.anonymous) sessionLost();
    throw e;
  }
  return body;
}

/* ---- who is using it --------------------------------------------------- */

function can(what) {
  const role = me && me.role;
  if (!role) return what !== "approvals" && what !== "register" && what !== "decide";
  if (role === "vendor") return what === "coverage" || what === "acceptance";
  if (what === "decide") return role === "admin";
  if (what === "import") return role === "admin" || role === "archivist";
  return true;
}

function showLogin(msg) {
  me = null;
  for (const id of ["who", "f", "nav", "main", "purpose"]) $(id).hidden = true;
  $("login").hidden = false;
  $("login-msg").textContent = msg || "";
  $("lp").value = "";
  ($("lu").value ? $("lp") : $("lu")).focus();
}

function sessionLost() {
  showLogin("会话已结束（超时或已在别处退出），请重新登录。");
}

function showWho() {
  $("who").hidden = !!me.anonymous;
  $("who-name").textContent = me.user || "";
  $("who-role").textContent = me.role_cn || me.role || "";
  $("who-purpose").textContent = me.purpose || "未填写";
  $("who").querySelector(".purpose-now").hidden = !can("search");  // a vendor opens no pages
}

function enter() {
  $("login").hidden = true;
  showWho();
  $("f").hidden = !can("search");
  let v = can("search") ? '<a href="#">检索</a>' : "";
  if (can("approvals")) v += `<a href="#view=approvals">${can("decide") ? "审批" : "我的审批申请"}</a>`;
  if (can("register")) v += '<a href="#view=register">利用登记</a>';
  if (me.role && can("import")) v += '<a href="#view=import">目录导入</a>';
  $("nav-views").innerHTML = v;
  let rep = "";
  for (const [k, label] of REPORTS)
    if (can(k)) rep += `<a href="/api/v1/reports/${k}?format=html" target="_blank" rel="noopener">${label}</a>`;
  if (can("acceptance")) rep += '<a href="#view=acceptance">验收</a>';
  $("reports").innerHTML = "报告：" + rep;
  $("nav").hidden = false;
  $("main").hidden = false;
  route();
  if (can("search")) $("q").focus();
}

async function boot() {
  try {
    me = await api("/api/v1/me", { login: true });
  } catch (e) {
    if (e.http === 401) return showLogin("");
    if (e.http === 404) me = { anonymous: true };  // a daemon without access control
    else return showLogin(cnError(e));
  }
  enter();
}

$("loginform").addEventListener("submit", async (e) => {
  e.preventDefault();
  const btn = e.target.querySelector("button");
  $("login-msg").textContent = "";
  btn.disabled = true;
  try {
    me = await api("/api/v1/login", { method: "POST", login: true, body: { user: $("lu").value.trim(), password: $("lp").value } });
    $("lp").value = "";
    enter();
  } catch (err) {
    $("login-msg").textContent = err.status === "unauthorized" ? "用户名或密码错误。"
      : err.status === "too_many" ? `登录失败次数过多，请 ${wait(err.retry)}后再试。` : cnError(err);
    $("lp").value = "";
    $("lp").focus();
  } finally {
    btn.disabled = false;
  }
});

$("logout").addEventListener("click", async () => {
  try { await api("/api/v1/logout", { method: "POST", login: true }); } catch (e) { /* the session is gone anyway */ }
  $("results").innerHTML = $("record").innerHTML = $("panel").innerHTML = $("facets").innerHTML = "";
  state.record = null;
  showLogin("已退出。");
});

/* ---- the purpose of use (利用目的) -------------------------------------- */

let afterPurpose = null;

function askPurpose(why, then) {
  afterPurpose = then || null;
  $("purpose-why").textContent = why || "请填写本次利用的目的（记入利用登记簿）。";
  $("purpose-msg").textContent = "";
  $("purpose").hidden = false;
  $("pp-kind").focus();
}

function closePurpose() {
  $("purpose").hidden = true;
  afterPurpose = null;
}

$("purpose-change").addEventListener("click", () => askPurpose("更改本次利用的目的（此后的查看按新的目的登记）。"));
$("purpose-cancel").addEventListener("click", closePurpose);
$("purpose").addEventListener("keydown", (e) => { if (e.key === "Escape") closePurpose(); });

$("purposeform").addEventListener("submit", async (e) => {
  e.preventDefault();
  const kind = $("pp-kind").value, text = $("pp-text").value.trim();
  const purpose = kind && text ? `${kind}：${text}` : kind || text;
  if (!purpose) {
    $("purpose-msg").textContent = "选“其他”时请写明利用目的。";
    $("pp-text").focus();
    return;
  }
  try {
    const a = await api("/api/v1/me/purpose", { method: "PUT", body: { purpose } });
    me.purpose = a.purpose;
    showWho();
    const then = afterPurpose;
    closePurpose();
    if (then) then();
  } catch (err) {
    $("purpose-msg").textContent = cnError(err);
  }
});

/* ---- routes ------------------------------------------------------------ */

function fromHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  state.q = p.get("q") || "";
  state.sort = p.get("sort") || "relevance";
  state.offset = +p.get("offset") || 0;
  state.filters = {};
  for (const [k] of FACETS) if (p.get(k)) state.filters[k] = p.get(k);
  return p;
}

function toHash(extra) {
  const p = new URLSearchParams();
  if (state.q) p.set("q", state.q);
  if (state.sort !== "relevance") p.set("sort", state.sort);
  if (state.offset) p.set("offset", state.offset);
  for (const [k, v] of Object.entries(state.filters)) p.set(k, v);
  if (extra) p.set("record", extra);
  location.hash = p.toString();
}

// Show one of the main areas: "results" (with facets), "record" or "panel".
function show(which) {
  $("facets").hidden = which !== "results";
  $("results").hidden = which !== "results";
  $("record").hidden = which !== "record";
  $("panel").hidden = which !== "panel";
  return ++state.seq;
}

function route() {
  if (!me) return;
  const p = fromHash();
  $("q").value = state.q;
  $("sort").value = state.sort;
  const view = p.get("view");
  if (view === "approvals" && can("approvals")) showApprovals();
  else if (view === "register" && can("register")) showRegister(p);
  else if (view === "acceptance" && can("acceptance")) showAcceptance();
  else if (view === "import" && me.role && can("import")) showImport();
  else if (!can("search")) showAcceptance();
  else if (p.get("record")) showRecord(p.get("record"));
  else search();
}

/* ---- search ------------------------------------------------------------ */

async function search() {
  const seq = show("results");
  const p = new URLSearchParams({ q: state.q, sort: state.sort, offset: state.offset, limit: state.limit });
  for (const [k, v] of Object.entries(state.filters)) p.set(k, v);
  let a;
  try {
    a = await api("/api/v1/search?" + p);
  } catch (e) {
    if (seq !== state.seq) return;
    $("results").innerHTML = `<p class="error">${esc(cnError(e))}</p>`;
    $("facets").innerHTML = "";
    return;
  }
  if (seq !== state.seq) return;
  const total = `${a.total_exact ? "" : "约 "}${a.total} 件`;
  let h = `<p class="summary">${total}，用时 ${a.took_ms} 毫秒</p>`;
  for (const hit of a.hits) {
    h += `<div class="hit"><h2><a href="#" data-code="${esc(hit.code)}">${esc(hit.title || hit.code)}</a>${hit.unlinked ? ' <span class="badge unlinked">待挂接</span>' : ""}</h2>
      <div class="meta">${esc(hit.code)} · ${esc(hit.date)} · ${esc(hit.author || "")}
      ${hit.exact ? "" : '<span class="near">近似匹配</span>'}</div>
      <div class="meta">存放位置：<span class="loc">${esc(hit.location || "未登记")}</span>
      ${hit.pages.length ? " · 命中页：" + hit.pages.join("、") : ""}</div>
      <p class="snip">${hit.snippet}</p></div>`;  // the snippet is escaped by the daemon
  }
  const prev = state.offset > 0, next = state.offset + a.hits.length < a.total;
  h += `<div class="pager">${prev ? '<a href="#" id="prev">上一页</a>' : ""}${next ? '<a href="#" id="next">下一页</a>' : ""}</div>`;
  $("results").innerHTML = h;
  let f = "";
  for (const [k, label] of FACETS) {
    const counts = (a.facets || {})[k] || {};
    const keys = Object.keys(counts);
    if (!keys.length && !state.filters[k]) continue;
    f += `<h3>${label}</h3>`;
    for (const v of keys.sort()) {
      const on = state.filters[k] === v;
      f += `<a href="#" class="${on ? "on" : ""}" data-facet="${k}" data-value="${esc(v)}">${esc(k === "retention" ? RET[v] || v : v)} (${counts[v]})</a>`;
    }
  }
  $("facets").innerHTML = f;
}

/* ---- a record and its pages -------------------------------------------- */

async function showRecord(code) {
  const seq = show("record");
  const el = $("record");
  el.innerHTML = '<p class="meta">正在读取…</p>';
  let r;
  try {
    r = await api("/api/v1/records/" + encodeURIComponent(code));
  } catch (e) {
    if (seq === state.seq) el.innerHTML = `<p><a href="#" id="back">← 返回</a></p><p class="error">${esc(cnError(e))}</p>`;
    return;
  }
  if (seq !== state.seq) return;
  state.record = r;
  const ap = (r.access && r.access.approval) || {};
  const rows = [["档号", r.code], ["题名", r.title], ["责任者", r.author], ["文号", r.doc_no], ["日期", r.date],
    ["页数", r.pages], ["密级", r.classification], ["载体", r.carrier], ["保管期限", RET[r.retention] || r.retention], ["备注", r.note]];
  el.innerHTML = `<p><a href="#" id="back">← 返回结果</a></p>
    <h2>${esc(r.title || r.code)}${ap.required ? ' <span class="badge">需审批</span>' : ""}${r.unlinked ? ' <span class="badge unlinked">待挂接</span>' : ""}</h2>
    ${r.unlinked ? `<p class="notice" id="unlinked">待挂接：本件的扫描件已读入（${esc((r.unlinked_from || {}).source || "")}，${esc(when((r.unlinked_from || {}).at))}），目录中尚无此档号的条目；导入含此档号的目录后自动挂接。</p>` : ""}
    <div class="location-banner">存放位置：${esc(r.location || "未登记")}</div>
    <form id="slipform" class="slipform"><label for="asker">调档人</label>
      <input id="asker" required autocomplete="name" size="10" value="${esc(me.user || "")}">
      <button type="submit">打印调档单</button></form>
    <table class="fields">${rows.map(([k, v]) => `<tr><td>${k}</td><td>${esc(v ?? "")}</td></tr>`).join("")}</table>
    ${findingsBox(r.findings)}${historyBox(r.history)}
    <div id="pages"></div>`;
  showPages(r, seq);
}

// What the catalog row that wrote the record held irregular or was read
// leniently: kept with the record until a corrected row or an edit comes.
function findingsBox(list) {
  if (!list || !list.length) return "";
  const bad = list.filter((f) => f.severity !== "note").length;
  let h = `<div class="findings" id="findings"><h3>著录问题${bad ? `（${bad} 处待更正）` : "（均已按规范读取）"}</h3>
    <table class="list"><thead><tr><th>目录行</th><th>项目</th><th>问题</th><th>原著录</th><th>读作</th><th>说明</th></tr></thead><tbody>`;
  for (const f of list)
    h += `<tr class="sev-${esc(f.severity)}"><td>${esc(f.line ?? "")}</td><td>${esc(f.field || "整行")}</td>
      <td>${esc(f.rule_cn || f.rule)}<span class="sev">${esc(SEVERITY[f.severity] || "")}</span></td>
      <td>${esc(f.written)}</td><td>${esc(f.understood)}</td><td>${esc(f.reason)}</td></tr>`;
  return h + "</tbody></table><p class=\"meta\">以更正后的目录行重新导入，或修改著录后，这些问题即消除。</p></div>";
}

// The record's history: the values that imports and edits replaced.
function historyBox(list) {
  if (!list || !list.length) return "";
  let h = '<div class="history" id="history"><h3>修改记录</h3><table class="list"><thead><tr><th>时间</th><th>来源</th><th>更改</th></tr></thead><tbody>';
  for (const x of list.slice().reverse()) {
    const what = x.hidden ? "（原著录的密级高于当前账号，内容不显示）"
      : (x.changed || []).map((c) => `${esc(c.field)}：“${esc(c.kept)}” → “${esc(c.offered)}”`).join("<br>");
    h += `<tr><td>${esc(when(x.at))}</td><td>${esc(x.source || "")}${x.by ? "（" + esc(x.by) + "）" : ""}</td><td>${what}</td></tr>`;
  }
  return h + "</tbody></table></div>";
}

// The pages of r, unless its access says they are closed to this caller or
// a purpose of use is still missing; then say why and offer what opens them.
function showPages(r, seq) {
  const box = $("pages");
  const pages = r.stored_pages || [];
  if (!pages.length) {
    box.innerHTML = '<p class="meta">本件尚无页面文本或扫描件。</p>';
    return;
  }
  const acc = r.access;
  if (acc && !acc.text) {
    const ap = acc.approval || {};
    if (ap.required && ap.status !== "approved") return approvalBox(r, ap);
    box.innerHTML = '<p class="notice">当前账号无权查看本件的页面。</p>';
    return;
  }
  if (!me.anonymous && !me.purpose) return needPurpose(r, seq);
  loadPages(r, seq);
}

function needPurpose(r, seq) {
  $("pages").innerHTML = `<p class="notice">查看页面前须填写利用目的（记入利用登记簿）。
    <button type="button" id="give-purpose">填写利用目的</button></p>`;
  const then = () => { if (seq === state.seq) loadPages(r, seq); };
  $("give-purpose").addEventListener("click", () => askPurpose("", then));
  askPurpose("", then);
}

function approvalBox(r, ap) {
  const st = ap.status || "none";
  let h = `<div class="approval" role="status"><p><strong>需审批</strong>：本件须经管理员审批后才能查看页面。</p>
    <p>审批状态：<span class="ap-status ap-${esc(st)}">${esc(AP_STATUS[st] || st)}</span>${ap.id ? `（申请编号 ${esc(ap.id)}）` : ""}</p>`;
  if (st === "pending") h += '<p><button type="button" id="ap-refresh">刷新状态</button></p>';
  else h += `<form id="approvalform"><label for="ap-purpose">利用目的</label>
      <input id="ap-purpose" required maxlength="100" size="30" value="${esc(me.purpose || "")}">
      <button type="submit">${st === "denied" ? "重新申请审批" : "申请审批"}</button></form>`;
  h += '<p id="ap-note"></p><p id="ap-msg" class="error" role="alert"></p></div>';
  $("pages").innerHTML = h;
  if (ap.id && st === "denied") showDecisionNote(ap.id);
}

// Why a request was turned down, from the requester's own list.
async function showDecisionNote(id) {
  try {
    const a = await api("/api/v1/approvals?status=denied");
    const x = (a.approvals || []).find((y) => y.id === id);
    if (x && $("ap-note")) $("ap-note").textContent = `${x.decided_by || "管理员"}于 ${when(x.decided)} 不批准${x.note ? "，意见：" + x.note : ""}。`;
  } catch (e) { /* the status alone */ }
}

async function loadPages(r, seq) {
  const box = $("pages");
  box.innerHTML = "";
  const base = `/api/v1/records/${encodeURIComponent(r.code)}/pages/`;
  for (const n of r.stored_pages || []) {
    let p;
    try {
      p = await api(base + n);
    } catch (e) {
      if (seq !== state.seq) return;
      if (e.status === "purpose_required") return needPurpose(r, seq);
      if (e.status === "approval_required") return approvalBox(r, { required: true, status: "none" });
      if (e.http === 403) {
        box.innerHTML = `<p class="notice">${esc(cnError(e))}</p>`;
        return;
      }
      box.insertAdjacentHTML("beforeend", `<h3>第 ${n} 页</h3><p class="error">第 ${n} 页无法读取：${esc(cnError(e))}</p>`);
      continue;
    }
    if (seq !== state.seq) return;
    let img = "";
    if (p.web_width && p.width && p.height) {
      // the scan, with the query's hits boxed on it (positions in % of the page)
      let boxes = "";
      if (state.q) {
        try {
          const b = await api(`${base}${n}/boxes?q=${encodeURIComponent(state.q)}`);
          for (const x of b.boxes)
            boxes += `<div class="hitbox" title="${esc(x.term)}" style="left:${(100 * x.x / b.width).toFixed(3)}%;top:${(100 * x.y / b.height).toFixed(3)}%;width:${(100 * x.w / b.width).toFixed(3)}%;height:${(100 * x.h / b.height).toFixed(3)}%"></div>`;
        } catch (e) { /* no boxes: the image alone */ }
        if (seq !== state.seq) return;
      }
      img = `<div class="scan" tabindex="0" role="button" aria-label="第 ${n} 页扫描件，按回车放大或缩小" title="点击放大或缩小"><img src="${base}${n}/image" alt="第 ${n} 页扫描件" loading="lazy">${boxes}</div>`;
    }
    const meta = p.source === "ocr" ? `<div class="meta">识别可信度 ${esc(p.confidence)} · ${p.dpi ? esc(p.dpi) + " dpi" : "分辨率未注明"}${p.blank ? " · 空白页" : ""}</div>` : "";
    box.insertAdjacentHTML("beforeend", `<h3>第 ${n} 页</h3>${meta}<div class="page" data-page="${n}">${img}<div class="page-text">${esc(p.text)}</div></div>`);
  }
}

// An image the daemon refused: ask it why and say so in place of the image.
document.addEventListener("error", async (e) => {
  const img = e.target;
  if (!(img instanceof HTMLImageElement) || !img.closest(".scan")) return;
  let msg = "扫描件无法显示。";
  try {
    await api(img.getAttribute("src"));
  } catch (err) {
    msg = `扫描件无法显示：${cnError(err)}`;
  }
  const scan = img.closest(".scan");
  if (scan) scan.outerHTML = `<p class="error scan-error">${esc(msg)}</p>`;
}, true);

// After first (an approval request, say): the record read again, with its
// access, and its pages shown if they may be now.
async function reloadRecord(first) {
  const r = state.record, seq = state.seq;
  try {
    if (first) await first();
    const again = await api("/api/v1/records/" + encodeURIComponent(r.code));
    if (seq !== state.seq) return;
    state.record = again;
    showPages(again, seq);
  } catch (err) {
    if ($("ap-msg")) $("ap-msg").textContent = cnError(err);
  }
}

document.addEventListener("submit", async (e) => {
  if (e.target.id !== "approvalform") return;
  e.preventDefault();
  const r = state.record;
  await reloadRecord(() => api("/api/v1/approvals", { method: "POST", body: { code: r.code, purpose: $("ap-purpose").value.trim() } }));
});

document.addEventListener("click", async (e) => {
  if (!e.target.closest("#ap-refresh")) return;
  await reloadRecord();
});

/* ---- approvals --------------------------------------------------------- */

async function showApprovals() {
  const seq = show("panel");
  const el = $("panel");
  const admin = can("decide");
  let a;
  try {
    a = await api("/api/v1/approvals");
  } catch (e) {
    if (seq === state.seq) el.innerHTML = `<p class="error">${esc(cnError(e))}</p>`;
    return;
  }
  if (seq !== state.seq) return;
  const list = (a.approvals || []).slice().sort((x, y) =>
    (x.status === "pending" ? 0 : 1) - (y.status === "pending" ? 0 : 1) || (y.id || 0) - (x.id || 0));
  const npend = list.filter((x) => x.status === "pending").length;
  let h = `<h2>${admin ? "利用审批" : "我的审批申请"}</h2><p class="summary">共 ${list.length} 件，待审批 ${npend} 件</p>`;
  if (!list.length) {
    el.innerHTML = h + "<p>没有审批申请。</p>";
    return;
  }
  h += `<table class="list"><thead><tr><th>编号</th><th>档号</th><th>题名</th><th>申请人</th><th>利用目的</th>
    <th>申请时间</th><th>状态</th><th>${admin ? "处理" : "审批人"}</th></tr></thead><tbody>`;
  for (const x of list) {
    let act = "";
    if (admin && x.status === "pending")
      act = `<input class="ap-note" data-id="${esc(x.id)}" size="8" placeholder="意见" aria-label="审批意见">
        <button type="button" data-decide="1" data-id="${esc(x.id)}">批准</button>
        <button type="button" data-decide="0" data-id="${esc(x.id)}">不批准</button>`;
    else if (x.decided_by)
      act = `${esc(x.decided_by)} ${esc(when(x.decided))}${x.expires ? `<br>有效至 ${esc(when(x.expires))}` : ""}${x.note ? `<br>${esc(x.note)}` : ""}`;
    h += `<tr class="ap-row ap-${esc(x.status)}" data-id="${esc(x.id)}"><td>${esc(x.id)}</td>
      <td><a href="#record=${encodeURIComponent(x.code)}">${esc(x.code)}</a></td><td>${esc(x.title)}</td>
      <td>${esc(x.user)}</td><td>${esc(x.purpose)}</td><td>${esc(when(x.requested))}</td>
      <td class="ap-status ap-${esc(x.status)}">${esc(AP_STATUS[x.status] || x.status)}</td><td>${act}</td></tr>`;
  }
  el.innerHTML = h + '</tbody></table><p id="ap-list-msg" class="error" role="alert"></p>';
}

document.addEventListener("click", async (e) => {
  const b = e.target.closest("button[data-decide]");
  if (!b) return;
  const id = b.dataset.id;
  const note = document.querySelector(`.ap-note[data-id="${CSS.escape(id)}"]`);
  b.disabled = true;
  try {
    await api(`/api/v1/approvals/${encodeURIComponent(id)}/decision`,
      { method: "POST", body: { approve: b.dataset.decide === "1", note: note ? note.value.trim() : "" } });
    showApprovals();
  } catch (err) {
    b.disabled = false;
    if ($("ap-list-msg")) $("ap-list-msg").textContent = cnError(err);
  }
});

/* ---- the use register (利用登记簿) -------------------------------------- */

const REG_PAGE = 50;

async function showRegister(p) {
  const seq = show("panel");
  const el = $("panel");
  const f = {};
  for (const k of ["user", "code", "from", "to"]) if (p.get(k)) f[k] = p.get(k);
  const offset = +p.get("offset") || 0;
  const q = new URLSearchParams(f);
  const link = (fmt) => { const x = new URLSearchParams(f); x.set("format", fmt); return "/api/v1/register?" + x; };
  let h = `<h2>利用登记</h2>
    <form id="regform" class="filters">
      <label>用户 <input name="user" size="8" value="${esc(f.user || "")}"></label>
      <label>档号 <input name="code" size="22" value="${esc(f.code || "")}"></label>
      <label>自 <input name="from" size="10" maxlength="8" pattern="\\d{8}" placeholder="YYYYMMDD" value="${esc(f.from || "")}"></label>
      <label>至 <input name="to" size="10" maxlength="8" pattern="\\d{8}" placeholder="YYYYMMDD" value="${esc(f.to || "")}"></label>
      <button type="submit">查询</button></form>
    <p class="exports">导出：<a href="${esc(link("csv"))}" id="reg-csv">CSV 表格</a>
      <a href="${esc(link("csv") + "&encoding=gb18030")}">CSV（GB18030）</a>
      <a href="${esc(link("html"))}" target="_blank" rel="noopener" id="reg-html">打印利用登记簿</a></p>`;
  q.set("format", "json");
  q.set("offset", offset);
  q.set("limit", REG_PAGE);
  let a;
  try {
    a = await api("/api/v1/register?" + q);
  } catch (e) {
    if (seq === state.seq) el.innerHTML = h + `<p class="error">${esc(cnError(e))}</p>`;
    return;
  }
  if (seq !== state.seq) return;
  const list = a.entries || [];
  h += `<p class="summary">共 ${esc(a.total)} 条${a.total ? `，第 ${offset + 1}–${offset + list.length} 条` : ""}</p>`;
  if (list.length) {
    h += `<table class="list" id="register"><thead><tr><th>序号</th><th>时间</th><th>用户</th><th>档号</th><th>题名</th>
      <th>方式</th><th>页</th><th>利用目的</th><th>审批</th></tr></thead><tbody>`;
    for (const x of list)
      h += `<tr><td>${esc(x.seq)}</td><td>${esc(when(x.time))}</td><td>${esc(x.user)}</td>
        <td>${x.code ? `<a href="#record=${encodeURIComponent(x.code)}">${esc(x.code)}</a>` : ""}</td><td>${esc(x.title)}</td>
        <td>${esc(KIND[x.kind] || x.kind)}</td><td>${esc(x.page ?? "")}</td><td>${esc(x.purpose)}</td>
        <td>${x.approval ? "第 " + esc(x.approval) + " 号" : ""}</td></tr>`;
    h += "</tbody></table>";
  }
  const page = (o) => { const x = new URLSearchParams(f); x.set("view", "register"); if (o) x.set("offset", o); return "#" + x; };
  h += `<div class="pager">${offset > 0 ? `<a href="${esc(page(Math.max(0, offset - REG_PAGE)))}">上一页</a>` : ""}${offset + list.length < a.total ? `<a href="${esc(page(offset + REG_PAGE))}">下一页</a>` : ""}</div>`;
  el.innerHTML = h;
}

document.addEventListener("submit", (e) => {
  if (e.target.id !== "regform") return;
  e.preventDefault();
  const x = new URLSearchParams({ view: "register" });
  for (const [k, v] of new FormData(e.target)) if (String(v).trim()) x.set(k, String(v).trim());
  location.hash = x.toString();
});

/* ---- catalog import (目录导入) ------------------------------------------- */

const importState = { file: null };

function showImport() {
  show("panel");
  $("panel").innerHTML = `<h2>目录导入</h2>
    <p class="meta">选择表格软件导出的目录 CSV 文件（GB18030 或 UTF-8 均可）。每一行能读出档号的目录都会导入；
      不规范之处记为著录问题，与档案中已有著录不同的行记为冲突，默认保留档案中的著录。</p>
    <form id="importform"><p><input type="file" id="imp-file" accept=".csv,text/csv" required aria-label="目录文件"></p>
      <p><label><input type="checkbox" id="imp-replace"> 以本目录替换档案中不同的著录（旧值记入各件的修改记录）</label></p>
      <p><button type="submit">导入</button></p></form>
    <div id="imp-result" aria-live="polite"></div>`;
}

async function runImport(replace) {
  const out = $("imp-result");
  const f = importState.file;
  if (!f) return;
  out.innerHTML = '<p class="meta">正在导入…</p>';
  let a;
  try {
    const q = new URLSearchParams({ name: f.name });  // the history names the catalog
    if (replace) q.set("replace", "1");
    a = await api("/api/v1/catalog?" + q, { method: "POST", raw: f, type: "text/csv" });
  } catch (e) {
    out.innerHTML = `<p class="error">导入未完成：${esc(cnError(e))}</p>`;
    return;
  }
  out.innerHTML = importAccount(a, f.name, replace);
}

function importAccount(a, name, replaced) {
  const ENC = { "utf-8": "UTF-8", "utf-8-bom": "UTF-8（带 BOM）", gb18030: "GB18030", "utf-16": "UTF-16", "utf-16le": "UTF-16LE", "utf-16be": "UTF-16BE" };
  let h = `<h3>导入结果：${esc(name)}</h3><p class="summary" id="imp-summary">编码 ${esc(ENC[a.encoding] || a.encoding)}；
    导入 ${esc(a.imported)} 件${a.replaced ? `（其中替换 ${esc(a.replaced)} 件${replaced ? "，旧值已记入修改记录" : ""}）` : ""}${a.linked ? `，挂接待挂接件 ${esc(a.linked)} 件` : ""}；
    未导入 ${esc(a.rejected_count)} 行；冲突 ${esc(a.conflicts_count || 0)} 行；著录问题 ${esc(a.findings_count || 0)} 处；
    跳过表格中的合计行、重复表头等 ${esc(a.furniture_rows || 0)} 行。</p>`;
  const more = (n, list) => (n > list.length ? `<p class="meta">仅列出前 ${list.length} 条，共 ${n} 条。</p>` : "");
  const conflicts = a.conflicts || [];
  if (conflicts.length) {
    h += `<h4>冲突：与档案中已有的著录不同${replaced ? "" : "（已保留档案中的著录）"}</h4>
      <table class="list" id="imp-conflicts"><thead><tr><th>目录行</th><th>档号</th><th>项目</th><th>档案中</th><th>本目录</th></tr></thead><tbody>`;
    for (const c of conflicts)
      for (const x of c.fields || [])
        h += `<tr><td>${esc(c.line)}</td><td><a href="#record=${encodeURIComponent(c.code)}">${esc(c.code)}</a></td>
          <td>${esc(x.field)}</td><td>${esc(x.kept)}</td><td>${esc(x.offered)}</td></tr>`;
    h += "</tbody></table>" + more(a.conflicts_count, conflicts);
    if (!replaced && me.role === "admin")
      h += '<p><button type="button" id="imp-do-replace">以本目录的行替换这些著录</button> <span class="meta">旧值记入各件的修改记录</span></p>';
  }
  const rejected = a.rejected || [];
  if (rejected.length) {
    h += '<h4>未导入的行（读不出档号）</h4><table class="list" id="imp-rejected"><thead><tr><th>目录行</th><th>项目</th><th>原因</th></tr></thead><tbody>';
    for (const x of rejected) h += `<tr><td>${esc(x.line)}</td><td>${esc(x.field)}</td><td>${esc(x.reason)}</td></tr>`;
    h += "</tbody></table>" + more(a.rejected_count, rejected);
  }
  const findings = a.findings || [];
  if (findings.length) {
    h += `<h4>著录问题</h4><table class="list" id="imp-findings"><thead><tr><th>目录行</th><th>档号</th><th>项目</th><th>问题</th>
      <th>原著录</th><th>读作</th><th>说明</th></tr></thead><tbody>`;
    for (const f of findings)
      h += `<tr class="sev-${esc(f.severity)}"><td>${esc(f.line)}</td><td>${f.code ? `<a href="#record=${encodeURIComponent(f.code)}">${esc(f.code)}</a>` : ""}</td>
        <td>${esc(f.field || "整行")}</td><td>${esc(f.rule_cn || f.rule)}<span class="sev">${esc(SEVERITY[f.severity] || "")}</span></td>
        <td>${esc(f.written)}</td><td>${esc(f.understood)}</td><td>${esc(f.reason)}</td></tr>`;
    h += "</tbody></table>" + more(a.findings_count, findings);
  }
  const warnings = a.warnings || [];
  if (warnings.length) {
    h += '<h4>提示</h4><table class="list" id="imp-warnings"><thead><tr><th>目录行</th><th>项目</th><th>说明</th></tr></thead><tbody>';
    for (const x of warnings) h += `<tr><td>${esc(x.line)}</td><td>${esc(x.field)}</td><td>${esc(x.reason)}</td></tr>`;
    h += "</tbody></table>" + more(a.warnings_count, warnings);
  }
  return h;
}

document.addEventListener("submit", (e) => {
  if (e.target.id !== "importform") return;
  e.preventDefault();
  importState.file = $("imp-file").files[0] || null;
  runImport($("imp-replace").checked);
});
document.addEventListener("click", (e) => {
  if (e.target.id === "imp-do-replace") runImport(true);
});

/* ---- acceptance of deliveries (验收) ------------------------------------ */

async function showAcceptance() {
  const seq = show("panel");
  const el = $("panel");
  let h = `<h2>数字化成果验收</h2><p>数字化率报告：<a href="/api/v1/reports/coverage?format=html" target="_blank" rel="noopener">打印页</a>
    · <a href="/api/v1/reports/coverage?format=csv">CSV</a></p>`;
  let a;
  try {
    a = await api("/api/v1/reports/acceptance");
  } catch (e) {
    if (seq === state.seq) el.innerHTML = h + `<p class="error">${esc(cnError(e))}</p>`;
    return;
  }
  if (seq !== state.seq) return;
  const list = a.deliveries || [];
  if (!list.length) {
    el.innerHTML = h + "<p>尚无交付批次。</p>";
    return;
  }
  h += `<table class="list"><thead><tr><th>批次</th><th>文件夹</th><th>接收时间</th><th>文件</th><th>页</th>
    <th>未通过的检查</th><th>结论</th><th>报告</th></tr></thead><tbody>`;
  for (const d of list) {
    const u = "/api/v1/reports/acceptance?delivery=" + encodeURIComponent(d.name);
    h += `<tr><td>${esc(d.name)}</td><td>${esc(d.folder)}</td><td>${esc(when(d.received_at))}</td><td>${esc(d.files)}</td>
      <td>${esc(d.pages)}</td><td>${esc(d.failed_checks)}</td><td>${d.passed ? "通过" : '<span class="error">未通过</span>'}</td>
      <td><a href="${esc(u)}&format=html" target="_blank" rel="noopener">打印页</a> · <a href="${esc(u)}&format=csv">CSV</a></td></tr>`;
  }
  el.innerHTML = h + "</tbody></table>";
}

/* ---- links, zoom, the retrieval slip ----------------------------------- */

document.addEventListener("click", (e) => {
  const t = e.target.closest("a");
  if (!t) return;
  if (t.dataset.code) { e.preventDefault(); toHash(t.dataset.code); }
  else if (t.dataset.facet) {
    e.preventDefault();
    const k = t.dataset.facet;
    if (state.filters[k] === t.dataset.value) delete state.filters[k]; else state.filters[k] = t.dataset.value;
    state.offset = 0;
    toHash();
  } else if (t.id === "prev" || t.id === "next") {
    e.preventDefault();
    state.offset = Math.max(0, state.offset + (t.id === "next" ? state.limit : -state.limit));
    toHash();
  } else if (t.closest("#nav-views") && t.hash === location.hash) {
    e.preventDefault();  // the page already shown: read it again (new requests, new entries)
    route();
  } else if (t.id === "back") {
    e.preventDefault();
    if (history.length > 1) history.back(); else location.hash = "";
  }
});

// The retrieval slip (调档单): what the archivist takes to the store room.
document.addEventListener("submit", (e) => {
  if (e.target.id !== "slipform") return;
  e.preventDefault();
  const r = state.record, who = $("asker").value.trim();
  if (!r || !who) return;
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  const at = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}:${pad(now.getMinutes())}`;
  const by = me.user ? `${me.user}（${me.role_cn || me.role}）` : "";
  $("slip").innerHTML = `<h1>调 档 单</h1><table>
    <tr><th>档号</th><td>${esc(r.code)}</td></tr><tr><th>题名</th><td>${esc(r.title)}</td></tr>
    <tr><th>存放位置</th><td class="slip-loc">${esc(r.location || "未登记")}</td></tr>
    <tr><th>页数</th><td>${esc(r.pages ?? "")}</td></tr>
    <tr><th>调档人</th><td>${esc(who)}</td></tr><tr><th>调档时间</th><td>${esc(at)}</td></tr>
    ${me.purpose ? `<tr><th>利用目的</th><td>${esc(me.purpose)}</td></tr>` : ""}
    ${by ? `<tr><th>经办人</th><td>${esc(by)}</td></tr>` : ""}
    <tr><th>归还时间</th><td></td></tr><tr><th>经办人签字</th><td></td></tr></table>`;
  $("slip").hidden = false;
  window.print();
});

document.addEventListener("click", (e) => {
  const scan = e.target.closest(".scan");
  if (scan) scan.classList.toggle("zoom");
});
document.addEventListener("keydown", (e) => {
  const scan = e.target.closest && e.target.closest(".scan");
  if (scan && (e.key === "Enter" || e.key === " ")) {
    e.preventDefault();
    scan.classList.toggle("zoom");
  }
});

$("f").addEventListener("submit", (e) => {
  e.preventDefault();
  state.q = $("q").value.trim();
  state.sort = $("sort").value;
  state.offset = 0;
  toHash();
});

window.addEventListener("hashchange", route);
boot();
