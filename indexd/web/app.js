// The thin client: one search box, facets, results, a record with its
// store location.  Plain DOM, no build step, for old office PCs.
"use strict";
const $ = (id) => document.getElementById(id);
const FACETS = [["fonds", "全宗"], ["category", "门类"], ["year", "年度"], ["retention", "保管期限"], ["carrier", "载体"]];
const RET = { Y: "永久", D30: "30年", D10: "10年" };
const state = { q: "", sort: "relevance", offset: 0, limit: 20, filters: {} };

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function fromHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  state.q = p.get("q") || "";
  state.sort = p.get("sort") || "relevance";
  state.offset = +p.get("offset") || 0;
  state.filters = {};
  for (const [k] of FACETS) if (p.get(k)) state.filters[k] = p.get(k);
  return p.get("record");
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

async function api(path) {
  const r = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error ? body.error.message : r.statusText);
  return body;
}

async function search() {
  $("record").hidden = true;
  $("results").hidden = false;
  const p = new URLSearchParams({ q: state.q, sort: state.sort, offset: state.offset, limit: state.limit });
  for (const [k, v] of Object.entries(state.filters)) p.set(k, v);
  let a;
  try {
    a = await api("/api/v1/search?" + p);
  } catch (e) {
    $("results").innerHTML = `<p class="error">${esc(e.message)}</p>`;
    $("facets").innerHTML = "";
    return;
  }
  const total = `${a.total_exact ? "" : "约 "}${a.total} 件`;
  let h = `<p class="summary">${total}，用时 ${a.took_ms} 毫秒</p>`;
  for (const hit of a.hits) {
    h += `<div class="hit"><h2><a href="#" data-code="${esc(hit.code)}">${esc(hit.title)}</a></h2>
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

async function showRecord(code) {
  $("results").hidden = true;
  const el = $("record");
  el.hidden = false;
  let r;
  try {
    r = await api("/api/v1/records/" + encodeURIComponent(code));
  } catch (e) {
    el.innerHTML = `<p class="error">${esc(e.message)}</p>`;
    return;
  }
  const rows = [["档号", r.code], ["题名", r.title], ["责任者", r.author], ["文号", r.doc_no], ["日期", r.date],
    ["页数", r.pages], ["密级", r.classification], ["载体", r.carrier], ["保管期限", RET[r.retention] || r.retention], ["备注", r.note]];
  let h = `<p><a href="#" id="back">← 返回结果</a></p><h2>${esc(r.title)}</h2>
    <div class="location-banner">存放位置：${esc(r.location || "未登记")}</div>
    <form id="slipform" class="slipform">调档人 <input id="asker" required autocomplete="name" size="10">
      <button type="submit">打印调档单</button></form>`;
  state.record = r;
  h += `
    <table class="fields">${rows.map(([k, v]) => `<tr><td>${k}</td><td>${esc(v ?? "")}</td></tr>`).join("")}</table>`;
  const base = `/api/v1/records/${encodeURIComponent(code)}/pages/`;
  for (const n of r.stored_pages || []) {
    try {
      const p = await api(base + n);
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
        }
        img = `<div class="scan" title="点击放大或缩小"><img src="${base}${n}/image" alt="第 ${n} 页扫描件" loading="lazy">${boxes}</div>`;
      }
      const meta = p.source === "ocr" ? `<div class="meta">识别可信度 ${esc(p.confidence)} · ${p.dpi ? esc(p.dpi) + " dpi" : "分辨率未注明"}${p.blank ? " · 空白页" : ""}</div>` : "";
      h += `<h3>第 ${n} 页</h3>${meta}<div class="page">${img}<div class="page-text">${esc(p.text)}</div></div>`;
    } catch (e) { /* a page that can't be read is left out */ }
  }
  el.innerHTML = h;
}

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
  } else if (t.id === "back") { e.preventDefault(); history.back(); }
});

// The retrieval slip (调档单): what the archivist takes to the store room.
document.addEventListener("submit", (e) => {
  if (e.target.id !== "slipform") return;
  e.preventDefault();
  const r = state.record, who = $("asker").value.trim();
  if (!r || !who) return;
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  const when = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}:${pad(now.getMinutes())}`;
  $("slip").innerHTML = `<h1>调 档 单</h1><table>
    <tr><th>档号</th><td>${esc(r.code)}</td></tr><tr><th>题名</th><td>${esc(r.title)}</td></tr>
    <tr><th>存放位置</th><td class="slip-loc">${esc(r.location || "未登记")}</td></tr>
    <tr><th>页数</th><td>${esc(r.pages ?? "")}</td></tr>
    <tr><th>调档人</th><td>${esc(who)}</td></tr><tr><th>调档时间</th><td>${esc(when)}</td></tr>
    <tr><th>归还时间</th><td></td></tr><tr><th>经办人签字</th><td></td></tr></table>`;
  $("slip").hidden = false;
  window.print();
});

document.addEventListener("click", (e) => {
  const scan = e.target.closest(".scan");
  if (scan) scan.classList.toggle("zoom");
});

$("f").addEventListener("submit", (e) => {
  e.preventDefault();
  state.q = $("q").value.trim();
  state.sort = $("sort").value;
  state.offset = 0;
  toHash();
});

function route() {
  const code = fromHash();
  $("q").value = state.q;
  $("sort").value = state.sort;
  if (code) showRecord(code); else search();
}
window.addEventListener("hashchange", route);
route();
