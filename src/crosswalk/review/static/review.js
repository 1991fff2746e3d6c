// crosswalk review: every element is built with textContent (document text is data, never HTML).
"use strict";
const TOKEN = document.body.dataset.token;
const state = { kinds: [], kind: null, queue: [], index: 0, item: null, shown: 0, pendingNote: "", busy: false };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, body) {
  const options = { headers: { "X-Crosswalk-Token": TOKEN } };
  if (body !== undefined) {
    options.method = "POST";
    if (body instanceof Blob) { options.body = body; } else {
      options.body = JSON.stringify(body); options.headers["Content-Type"] = "application/json";
    }
  }
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function say(message) {
  const status = document.getElementById("status");
  status.textContent = message;
  if (message) setTimeout(() => { if (status.textContent === message) status.textContent = ""; }, 4000);
}

function showProgress(progress) {
  const box = document.getElementById("progress");
  const parts = Object.entries(progress).map(([k, p]) =>
    `${k.toUpperCase()} ${p.decided}/${p.items} decided` + (p.from_other_conversions ? ` (${p.from_other_conversions} from other conversions)` : ""));
  box.textContent = parts.join(" · ");
  const total = Object.values(progress).reduce((n, p) => n + p.decided, 0);
  box.dataset.decided = String(total);
}

async function start() {
  const s = await api("/api/state");
  state.kinds = s.kinds;
  document.getElementById("run").textContent = `${s.run_id} (${s.out})`;
  document.getElementById("export-csv").href = `/export/decisions.csv?token=${encodeURIComponent(TOKEN)}`;
  document.getElementById("export-xlsx").href = `/export/workbook.xlsx?token=${encodeURIComponent(TOKEN)}`;
  const nav = document.getElementById("kinds");
  for (const kind of s.kinds) nav.append(el("button", { "data-kind": kind, onclick: () => switchKind(kind) }, kind.toUpperCase()));
  showProgress(s.progress);
  await switchKind(s.kinds[0]);
}

async function switchKind(kind) {
  state.kind = kind;
  for (const b of document.querySelectorAll("#kinds button")) b.classList.toggle("active", b.dataset.kind === kind);
  await loadQueue(0);
}

async function loadQueue(index) {
  state.queue = await api(`/api/queue?kind=${state.kind}`);
  const list = document.getElementById("queue");
  list.replaceChildren(...state.queue.map((row, i) => el("li", {
      class: row.decided ? "decided" : "", "data-source": row.source_id, onclick: () => select(i) },
    el("div", {}, row.source_id, " ", row.impact > 0 ? el("span", { class: "badge high" }, "impact") : null,
       row.changed ? el("span", { class: "badge" }, "suggestion changed") : null),
    el("div", {}, row.title),
    el("div", { class: "meta" }, row.decided ? `decided: ${row.answer || "no counterpart"}${row.origin ? " — " + row.origin : ""}`
      : `→ ${row.answer || "no counterpart"} · ${Math.round(row.p_wrong * 100)}% likely wrong`))));
  await select(Math.min(index, state.queue.length - 1));
}

async function select(i) {
  if (i < 0 || !state.queue.length) return;
  state.index = i;
  for (const [n, li] of [...document.querySelectorAll("#queue li")].entries()) li.classList.toggle("current", n === i);
  const current = document.querySelectorAll("#queue li")[i];
  if (current) current.scrollIntoView({ block: "nearest" });
  const row = state.queue[i];
  state.item = await api(`/api/item?kind=${state.kind}&id=${encodeURIComponent(row.source_id)}`);
  const answer = state.item.candidates.findIndex(c => c.target_id === state.item.answer);
  state.shown = answer >= 0 ? answer : 0;
  state.pendingNote = state.item.note || "";
  render();
}

function diffNodes(segments) {
  return segments.map(([tag, text]) => tag === "same" ? document.createTextNode(text) : el(tag === "del" ? "del" : "ins", {}, text));
}

function render() {
  const item = state.item;
  const detail = document.getElementById("detail");
  const shown = item.candidates[state.shown];
  const heading = el("h2", { "data-current": item.source_id }, `${item.section} ${item.title}`.trim(), " ",
    el("span", { class: "badge" }, item.source_id));
  const verdict = el("p", { "data-answer": item.answer || "" }, item.decided ? "Decided: " : "Current answer: ",
    item.answer || "no counterpart", item.origin ? ` (${item.origin})` : "",
    item.proposed !== item.answer ? ` — the run said ${item.proposed || "no counterpart"}` : "");
  const pair = el("div", { class: "pair" },
    el("div", {}, el("h3", {}, "Source"), el("div", { class: "text" }, ...(shown ? diffNodes(shown.source_diff) : [item.text]))),
    el("div", {}, el("h3", {}, shown ? `Candidate ${state.shown + 1}: ${shown.target_id} ${shown.section} ${shown.title}` : "No candidate"),
       el("div", { class: "text" }, ...(shown ? diffNodes(shown.target_diff) : []))));
  const rows = item.candidates.map((c, i) => el("tr", {
      class: (c.target_id === item.answer ? "chosen " : "") + (i === state.shown ? "shown" : ""),
      onclick: () => { state.shown = i; render(); } },
    el("td", {}, String(i + 1)), el("td", {}, c.target_id), el("td", {}, `${c.section} ${c.title}`),
    el("td", {}, c.p === null ? "—" : c.p.toFixed(2)),
    el("td", {}, Object.entries(c.evidence).map(([k, v]) => `${k} ${v}`).join(", ")),
    el("td", {}, (c.options || []).map(o => `${o.source || "—"}→${o.target || "—"} (${o.change})`).join("; ")),
    el("td", {}, el("button", { onclick: (e) => { e.stopPropagation(); decide(c.target_id); } }, "pick"))));
  const table = el("table", { class: "cands" },
    el("tr", {}, ...["#", "target", "heading", "p", "evidence", "options", ""].map(h => el("th", {}, h))), ...rows);
  const actions = el("p", {},
    el("button", { onclick: () => decide(item.answer) }, "Accept (a)"), " ",
    el("button", { onclick: () => decide(null) }, "No counterpart (n)"), " ",
    el("button", { onclick: note }, "Note (t)"), " ",
    el("button", { onclick: undo }, "Take back (u)"), " ",
    state.pendingNote ? el("span", { class: "badge" }, `note: ${state.pendingNote}`) : null);
  const search = el("div", { class: "search" }, el("input", { id: "search", placeholder: "search the whole target document (/)",
    onkeydown: (e) => { if (e.key === "Enter") runSearch(e.target.value); e.stopPropagation(); } }), el("ol", { id: "results" }));
  detail.replaceChildren(heading, verdict, actions, pair, table, search, dependsBlock(item.depends));
}

function dependsBlock(d) {
  const lines = [];
  if (d.variance) lines.push(`Variance: ${d.variance.variance_type} (${d.variance.impact}) — ${d.variance.rule}`);
  if (d.confirmation) lines.push(`Confirmation: ${d.confirmation.status} — ${d.confirmation.rule}`);
  for (const p of d.proposals) lines.push(`Proposed target AA ${p.target_id}: ${p.status} ${JSON.stringify(p.proposed_value)}`);
  return el("div", { class: "depends" }, el("h3", {}, "What depends on it"),
    lines.length ? el("ul", {}, ...lines.map(l => el("li", {}, l))) : el("p", {}, "Nothing recorded for this item."));
}

async function runSearch(query) {
  const hits = await api(`/api/search?kind=${state.kind}&q=${encodeURIComponent(query)}`);
  document.getElementById("results").replaceChildren(...hits.map(h => el("li", {},
    el("button", { onclick: () => decide(h.target_id) }, "pick"), ` ${h.target_id} ${h.section} ${h.title}: ${h.text}`)));
  if (!hits.length) say("no target item holds every word");
}

async function decide(targetId) {
  if (state.busy || !state.item) return;
  state.busy = true;
  document.body.dataset.busy = "1";  // keys pressed meanwhile are ignored (tests wait for it to clear)
  try {
    const r = await api("/api/decide", { kind: state.kind, source_id: state.item.source_id, target_id: targetId, note: state.pendingNote });
    showProgress(r.progress);
    say(`saved: ${state.item.source_id} → ${targetId || "no counterpart"}`);
    await loadQueue(0);  // the queue re-orders: its first undecided item is next
  } catch (e) { say(`not saved: ${e.message}`); } finally { state.busy = false; document.body.dataset.busy = ""; }
}

async function undo() {
  const r = await api("/api/undo", { kind: state.kind, source_id: state.item.source_id });
  showProgress(r.progress);
  await loadQueue(state.index);
}

function note() {
  const text = window.prompt("Note for this item", state.pendingNote);
  if (text === null) return;
  state.pendingNote = text;
  if (state.item.decided) decide(state.item.answer); else render();
}

async function recompute() {
  say("recomputing…");
  try {
    const r = await api("/api/recompute", {});
    say(`reports rewritten: ${JSON.stringify(r.summary.confirmation || {})}`);
    await loadQueue(state.index);
  } catch (e) { say(`recompute failed: ${e.message}`); }
}

document.getElementById("recompute").addEventListener("click", recompute);
document.getElementById("import").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  try {
    const r = await api("/api/import", file);
    showProgress(r.progress); say(`imported ${r.imported} decisions`); await loadQueue(0);
  } catch (err) { say(`import failed: ${err.message}`); }
});
document.addEventListener("keydown", (e) => {
  if (e.target.tagName === "INPUT" || e.ctrlKey || e.metaKey || e.altKey || !state.item) return;
  const key = e.key;
  if (key === "j") select(state.index + 1);
  else if (key === "k") select(state.index - 1);
  else if (key === "a") decide(state.item.answer);
  else if (key === "n") decide(null);
  else if (key === "t") note();
  else if (key === "u") undo();
  else if (key === "r") recompute();
  else if (key === "/") { e.preventDefault(); document.getElementById("search").focus(); }
  else if (/^[1-9]$/.test(key) && state.item.candidates[Number(key) - 1]) decide(state.item.candidates[Number(key) - 1].target_id);
  else return;
  e.preventDefault();
});
start().catch(e => say(`cannot load: ${e.message}`));
