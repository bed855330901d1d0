// The coal web UI: hash-routed pages over the REST API (/v1). Every
// request carries the token from sessionStorage as a Bearer header.
// docs/webui.md lists the pages and the routes each calls.
import { watch } from "./sse.js";
import { exprErrors, fieldOfError, offsetOf, Lines, fieldDiff, dispositionName, cell } from "./lib.js";

const main = document.getElementById("main");
const state = { world: sessionStorage.getItem("coal.world") || "", stopWatch: null };
const token = () => sessionStorage.getItem("coal.token") || "";

// h builds an element: h("a", {href: "#"}, "text", child). Text is always
// text nodes, never parsed as HTML.
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "value") e.value = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat(Infinity)) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}

class Problem extends Error {
  constructor(p, status) { super(p.detail || p.title || ("HTTP " + status)); this.p = p; this.status = status; this.kind = p.kind || ""; }
}

// api calls /v1 + path; answers parsed JSON (or the Response with raw).
async function api(method, path, body, opt = {}) {
  const headers = { Authorization: "Bearer " + token(), ...(opt.headers || {}) };
  let b = body;
  if (body !== undefined && !(body instanceof Blob) && typeof body !== "string") { b = JSON.stringify(body); headers["Content-Type"] = "application/json"; }
  else if (opt.type) headers["Content-Type"] = opt.type;
  const r = await fetch("/v1" + path, { method, headers, body: b, cache: "no-store" });
  if (r.status === 401) { signOut("The token was refused (401): sign in again."); throw new Problem({ detail: "unauthenticated" }, 401); }
  if (!r.ok) {
    let p = {};
    try { p = await r.json(); } catch (e) { p = { detail: "HTTP " + r.status }; }
    throw new Problem(p, r.status);
  }
  if (opt.raw) return r;
  const t = await r.text();
  return t ? JSON.parse(t) : null;
}

// enc encodes a tree path for a URL: each segment percent-encoded, "."
// and ".." as %2E so the node sees them (docs/api.md, "Paths in URLs").
function enc(path) {
  return path.split("/").filter(s => s !== "").map(s => s === "." || s === ".." ? s.replace(/\./g, "%2E") : encodeURIComponent(s)).join("/");
}
const W = () => "/worlds/" + encodeURIComponent(state.world);
const short = id => (id || "").slice(0, 12);
const q = o => { const s = new URLSearchParams(); for (const [k, v] of Object.entries(o)) if (v) s.set(k, v); const x = s.toString(); return x ? "?" + x : ""; };
function join(dir, name) { return (dir === "/" ? "" : dir) + "/" + name; }
function parent(p) { const i = p.lastIndexOf("/"); return i <= 0 ? "/" : p.slice(0, i); }
function link(page, params, text) { return h("a", { href: "#/" + page + q(params) }, text); }

function route() {
  const [page, qs] = location.hash.replace(/^#\/?/, "").split("?");
  return { page: page || "tree", params: Object.fromEntries(new URLSearchParams(qs || "")) };
}

function errorBox(e) { return h("p", { class: "error", role: "alert" }, e.message || String(e)); }

// page is what a page function answers: render shows it only if no newer
// render started meanwhile (a slow page must not replace a newer one).
function page(title, ...kids) { return { title, kids }; }

function setPage(title, ...kids) {
  main.replaceChildren(h("h1", {}, title), ...kids.filter(k => k !== null && k !== undefined));
  document.title = title + " · coal";
}

// ---- sign-in ----

function signOut(msg) {
  sessionStorage.removeItem("coal.token");
  if (state.stopWatch) { state.stopWatch(); state.stopWatch = null; }
  showSignIn(msg);
}

function showSignIn(msg) {
  document.getElementById("nav").hidden = true;
  document.getElementById("session").hidden = true;
  const input = h("input", { id: "token", type: "password", autocomplete: "off", required: true, "aria-describedby": "token-help" });
  const err = h("p", { id: "signin-error", class: "error", role: "alert" }, msg || "");
  const form = h("form", { "aria-labelledby": "signin-title", onsubmit: async ev => {
    ev.preventDefault();
    sessionStorage.setItem("coal.token", input.value.trim());
    try { await start(); } catch (e) { err.textContent = e.message; }
  } },
    h("label", { for: "token" }, "API token"),
    h("p", { id: "token-help", class: "muted" }, "Run ", h("code", {}, "coal token"), " on the node. The token is kept in this tab only (sessionStorage)."),
    input, " ", h("button", { class: "primary", type: "submit" }, "Sign in"), err);
  main.replaceChildren(h("h1", { id: "signin-title" }, "Sign in"), form);
  document.title = "Sign in · coal";
  input.focus();
}

async function start() {
  const info = await api("GET", "/info");
  const sel = document.getElementById("world");
  const worlds = info.worlds || [];
  sel.replaceChildren(...worlds.map(w => h("option", { value: w.name }, w.name)));
  if (!worlds.some(w => w.name === state.world)) state.world = (worlds.find(w => w.default) || worlds[0] || {}).name || "default";
  sel.value = state.world;
  document.getElementById("nav").hidden = false;
  const s = document.getElementById("session");
  s.hidden = false;
  s.title = "signed in as " + (info.as || "");
  startWatch();
  if (!location.hash || location.hash === "#") location.hash = "#/tree"; else render();
}

// ---- live updates ----

function startWatch() {
  if (state.stopWatch) state.stopWatch();
  const list = document.getElementById("live");
  list.replaceChildren();
  const st = document.getElementById("live-state");
  state.stopWatch = watch("/v1" + W() + "/watch?path=/", token(), ev => {
    if (ev.event !== "commit") return;
    let c = {};
    try { c = JSON.parse(ev.data); } catch (e) { return; }
    const ops = Array.isArray(c.ops) ? c.ops.length : (c.ops || 0);
    list.prepend(h("li", { class: "live-commit", "data-id": c.id },
      link("commit", { id: c.id }, short(c.id)), " ", c.message || "", " ", h("span", { class: "muted" }, ops + (ops === 1 ? " op" : " ops"))));
    while (list.children.length > 50) list.lastChild.remove();
    const r = route();
    if ((r.page === "tree" || r.page === "history") && !r.params.at && !editing()) render();
  }, s => { st.textContent = "(" + s + ")"; });
}

// editing: the user is in a form of the page, which a refresh would wipe.
function editing() { const a = document.activeElement; return !!(a && a.closest && a.closest("main form") && a.tagName !== "BUTTON"); }

// ---- tree ----

function crumbs(path, at) {
  const segs = path.split("/").filter(Boolean);
  const items = [h("li", {}, link("tree", { at }, "/"))];
  segs.forEach((s, i) => items.push(h("li", {}, link("tree", { path: "/" + segs.slice(0, i + 1).join("/"), at }, s))));
  return h("nav", { "aria-label": "Path" }, h("ol", { class: "crumbs" }, items));
}

function atForm(page, params) {
  const inp = h("input", { id: "at", name: "at", value: params.at || "", placeholder: "HEAD, HEAD~2, an id…", size: 16 });
  return h("form", { class: "toolbar", onsubmit: ev => { ev.preventDefault(); location.hash = "#/" + page + q({ ...params, at: inp.value.trim() }); } },
    h("label", { for: "at" }, "At commit"), inp, h("button", { type: "submit" }, "View"),
    params.at ? link(page, { ...params, at: "" }, "back to the head") : null);
}

// valueView renders a decoded value as a read-only definition list.
function valueView(v) {
  if (v === null || typeof v !== "object") return h("span", {}, JSON.stringify(v));
  const dl = h("dl", { class: "value" });
  for (const [k, x] of Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v)) {
    dl.append(h("dt", {}, k), h("dd", {}, valueView(x)));
  }
  return dl;
}

// fields flattens a value into [fieldPath, leaf] (a.b, items[0]).
function fields(v, prefix, out) {
  if (v !== null && typeof v === "object") {
    for (const [k, x] of Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v)) {
      fields(x, Array.isArray(v) ? prefix + "[" + k + "]" : (prefix ? prefix + "." + k : k), out);
    }
  } else out.push([prefix, v]);
  return out;
}
function setAt(obj, path, val) {
  const keys = path.match(/[^.[\]]+/g) || [];
  let o = obj;
  keys.forEach((k, i) => { if (i === keys.length - 1) o[k] = val; else o = o[k]; });
}

// fieldOf finds the field a problem's detail names: the longest field
// path F such that the detail holds "F: " (cdb names the field path
// inside a value before its message).
function fieldOf(detail, names) {
  let best = null;
  for (const n of names) {
    if (!n) continue;
    const re = new RegExp("(^|\\s)" + n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + ": ");
    if (re.test(detail) && (!best || n.length > best.length)) best = n;
  }
  return best;
}

function editForm(path, value, schemaHint) {
  const form = h("form", { class: "editing", "aria-labelledby": "edit-title" });
  const leaves = fields(value, "", []);
  const inputs = new Map();
  const box = h("div", {});
  leaves.forEach(([f, v], i) => {
    const id = "f-" + i;
    let inp;
    if (typeof v === "boolean") inp = h("input", { id, type: "checkbox", "data-field": f, checked: v });
    else inp = h("input", { id, type: "text", "data-field": f, "data-type": typeof v, value: v === null ? "" : String(v), "aria-describedby": id + "-err" });
    inputs.set(f, inp);
    box.append(h("div", { class: "field" }, h("label", { for: id }, f || "(value)"), inp, h("div", { id: id + "-err", class: "field-error" })));
  });
  const json = h("textarea", { id: "edit-json", rows: 6, "aria-describedby": "edit-json-help" }, JSON.stringify(value, null, 2));
  const useJSON = h("input", { type: "checkbox", id: "use-json" });
  const schema = h("input", { id: "edit-schema", value: schemaHint || "", placeholder: "the directory's schema" });
  const msg = h("input", { id: "edit-message", placeholder: "put " + path });
  const err = h("p", { class: "error", role: "alert", id: "edit-error" });
  const result = h("p", { role: "status", id: "edit-result" });
  form.append(h("h2", { id: "edit-title" }, "Edit " + path), box,
    h("details", {}, h("summary", {}, "Edit as JSON"),
      h("p", { id: "edit-json-help", class: "muted" }, "Tick to send this JSON instead of the fields."),
      h("label", { class: "inline", for: "use-json" }, useJSON, " send the JSON below"), h("label", { for: "edit-json" }, "The value as JSON"), json),
    h("label", { for: "edit-schema" }, "Schema (optional)"), schema,
    h("label", { for: "edit-message" }, "Commit message"), msg,
    h("p", {}, h("button", { class: "primary", type: "submit", id: "put" }, "Put")), err, result);
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    err.textContent = ""; result.textContent = "";
    for (const i of inputs.values()) { i.removeAttribute("aria-invalid"); document.getElementById(i.id + "-err").textContent = ""; }
    let body;
    if (useJSON.checked) {
      try { body = JSON.parse(json.value); } catch (e) { err.textContent = "JSON: " + e.message; json.setAttribute("aria-invalid", "true"); json.focus(); return; }
    } else if (leaves.length === 1 && leaves[0][0] === "") {
      body = readInput(inputs.get(""));
    } else {
      body = structuredClone(value);
      for (const [f, i] of inputs) setAt(body, f, readInput(i));
    }
    try {
      const r = await api("PUT", W() + "/tree/" + enc(path) + q({ schema: schema.value.trim(), message: msg.value.trim() }), body);
      result.replaceChildren("Committed ", link("commit", { id: r.commit }, short(r.commit)), ".");
      setTimeout(render, 0);
    } catch (e) {
      const f = fieldOf(e.message, [...inputs.keys()]);
      if (f !== null && inputs.get(f)) {
        const i = inputs.get(f);
        i.setAttribute("aria-invalid", "true");
        document.getElementById(i.id + "-err").textContent = e.message;
        i.focus();
      } else err.textContent = e.message;
    }
  });
  return form;
}
function readInput(i) {
  if (i.type === "checkbox") return i.checked;
  const s = i.value;
  if (i.dataset.type === "number" && s.trim() !== "" && !isNaN(Number(s))) return Number(s);
  if (i.dataset.type === "object" && s === "") return null;
  return s;
}

function newValueForm(dir) {
  const name = h("input", { id: "new-name", required: true });
  const schema = h("input", { id: "new-schema" });
  const json = h("textarea", { id: "new-json", rows: 4 }, "{}");
  const err = h("p", { class: "error", role: "alert" });
  return h("form", { class: "editing", onsubmit: async ev => {
    ev.preventDefault(); err.textContent = "";
    let body;
    try { body = JSON.parse(json.value); } catch (e) { err.textContent = "JSON: " + e.message; return; }
    try {
      await api("PUT", W() + "/tree/" + enc(join(dir, name.value.trim())) + q({ schema: schema.value.trim() }), body);
      location.hash = "#/tree" + q({ path: join(dir, name.value.trim()) });
    } catch (e) { err.textContent = e.message; }
  } }, h("h2", {}, "New value in " + dir),
    h("label", { for: "new-name" }, "Name"), name,
    h("label", { for: "new-schema" }, "Schema (optional)"), schema,
    h("label", { for: "new-json" }, "Value (JSON)"), json,
    h("p", {}, h("button", { type: "submit", id: "new-put" }, "Put")), err);
}

async function treePage({ path = "/", at = "" }) {
  const meta = await api("GET", W() + "/tree/" + enc(path) + q({ meta: "1", at }));
  const title = at ? `Tree ${path} at ${at}` : "Tree " + path;
  const kids = [crumbs(path, at), atForm("tree", { path, at })];
  if (meta.kind === "dir") {
    const list = await api("GET", W() + "/tree/" + enc(path) + q({ list: "1", at }));
    const rows = (list || []).map(e => h("tr", {},
      h("td", {}, link("tree", { path: join(path, e.name), at }, e.name + (e.dir ? "/" : ""))),
      h("td", {}, e.withheld ? "withheld" : e.kind), h("td", {}, e.size ? e.size + " B" : ""), h("td", { class: "id" }, short(e.id))));
    kids.push(h("table", {}, h("caption", { class: "muted" }, (list || []).length + " entries"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Kind"), h("th", { scope: "col" }, "Size"), h("th", { scope: "col" }, "Id"))),
      h("tbody", {}, rows)));
    kids.push(h("p", {}, link("history", { path }, "History of " + path), " · ", link("acl", { path }, "Permissions"), " · ", link("query", { prefix: path, at, run: "1" }, "Query " + path)));
    if (!at) kids.push(newValueForm(path));
  } else if (meta.kind === "blob") {
    kids.push(blobView(path, meta));
  } else {
    const schemaName = await schemaNameOf(meta.schema, at);
    kids.push(h("p", {}, "Value, schema ", h("code", {}, schemaName || short(meta.schema)), ", id ", h("code", {}, short(meta.id))),
      h("div", { class: "sides" },
        h("section", { "aria-labelledby": "form-view" }, h("h2", { id: "form-view" }, "Fields"), valueView(meta.value)),
        h("section", { "aria-labelledby": "json-view" }, h("h2", { id: "json-view" }, "JSON"), h("pre", { id: "value-json" }, JSON.stringify(meta.value, null, 2)))));
    if (path.split("/").length > 1) kids.push(h("p", {}, link("history", { path }, "History of " + path), " · ", link("programs", { path }, "As a program"), " · ", link("acl", { path }, "Permissions")));
    if (!at) kids.push(editForm(path, meta.value, schemaName));
  }
  return page(title, ...kids);
}

// blobView offers a blob's bytes: the whole blob (GET ?download=1, saved
// under the name its Content-Disposition gives), a byte range of it (a
// Range request, answered 206), and a preview of its first KiB if text.
function blobView(path, meta) {
  const size = meta.size || 0;
  const status = h("p", { role: "status", id: "blob-result" });
  const from = h("input", { id: "range-from", type: "number", min: "0", value: "0", "aria-describedby": "range-help" });
  const to = h("input", { id: "range-to", type: "number", min: "0", value: String(Math.max(0, Math.min(size - 1, 1023))), "aria-describedby": "range-help" });
  const url = extra => W() + "/tree/" + enc(path) + q({ at: meta.at, ...extra });
  async function save(range) {
    status.textContent = "";
    try {
      const r = await api("GET", url({ download: "1" }), undefined, { raw: true, headers: range ? { Range: "bytes=" + range } : {} });
      let name = dispositionName(r.headers.get("Content-Disposition")) || path.split("/").pop();
      const cr = /bytes (\d+)-(\d+)\/(\d+)/.exec(r.headers.get("Content-Range") || "");
      if (r.status === 206 && cr) name += ".bytes-" + cr[1] + "-" + cr[2];
      const b = await r.blob();
      const href = URL.createObjectURL(b);
      const a = h("a", { href, download: name, hidden: true });
      document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(href), 10000);
      status.textContent = `Saved ${name}: ${b.size} bytes` + (cr ? ` (bytes ${cr[1]}–${cr[2]} of ${cr[3]}, HTTP 206)` : "") + ".";
    } catch (e) { status.replaceChildren(errorBox(e)); }
  }
  const preview = h("div", { id: "blob-preview" });
  if (size > 0) (async () => {
    try {
      const r = await api("GET", url({}), undefined, { raw: true, headers: { Range: "bytes=0-1023" } });
      const ct = r.headers.get("Content-Type") || "";
      if (!/^text\/|json|xml|javascript/.test(ct)) { preview.append(h("p", { class: "muted" }, "No preview: " + (ct || "binary") + ".")); return; }
      const t = await r.text();
      preview.append(h("h2", {}, "Preview"), h("p", { class: "muted" }, `The first ${Math.min(size, 1024)} of ${size} bytes (${ct}).`), h("pre", { id: "blob-text" }, t));
    } catch (e) { preview.append(errorBox(e)); }
  })();
  return h("section", { "aria-labelledby": "blob-title" },
    h("h2", { id: "blob-title" }, "Blob"),
    h("p", {}, String(size), " bytes, id ", h("code", {}, meta.id)),
    h("p", {}, h("button", { type: "button", id: "download", class: "primary", onclick: () => save("") }, "Download")),
    h("form", { class: "toolbar", id: "range-form", onsubmit: ev => { ev.preventDefault(); save(from.value + "-" + to.value); } },
      h("label", { for: "range-from" }, "First byte"), from, h("label", { for: "range-to" }, "Last byte"), to,
      h("button", { type: "submit", id: "download-range" }, "Download these bytes")),
    h("p", { id: "range-help", class: "muted" }, "Byte offsets count from 0; both ends are included. The page holds what it downloads in memory: download a large blob in parts."),
    status, preview);
}

async function schemaNameOf(id, at) {
  if (!id) return "";
  try { const l = await api("GET", W() + "/schemas" + q({ at })); const s = (l || []).find(s => s.id === id); return s ? s.name : ""; } catch (e) { return ""; }
}

// ---- history ----

async function historyPage({ path = "/", n = "50", from = "" }) {
  const log = await api("GET", W() + "/log" + q({ path: path === "/" ? "" : path, n, from }));
  const inp = h("input", { id: "hpath", value: path });
  const rows = (log || []).map(c => h("tr", {},
    h("td", { class: "id" }, link("commit", { id: c.id }, short(c.id))), h("td", {}, c.message), h("td", {}, c.author || ""), h("td", {}, c.time)));
  return page("History " + path,
    h("form", { class: "toolbar", onsubmit: ev => { ev.preventDefault(); location.hash = "#/history" + q({ path: inp.value.trim() }); } },
      h("label", { for: "hpath" }, "Path"), inp, h("button", { type: "submit" }, "Show")),
    h("table", { id: "log" }, h("thead", {}, h("tr", {}, ...["Commit", "Message", "Author", "Time"].map(t => h("th", { scope: "col" }, t)))), h("tbody", {}, rows)),
    // A full page may have more: ask for twice as many (a merge's history
    // is not a line, so "from the last one" would skip the other side).
    (log || []).length >= Number(n) ? h("p", {}, link("history", { path, from, n: String(Number(n) * 2) }, `Show ${Number(n) * 2} commits`)) : null);
}

async function commitPage({ id }) {
  const c = await api("GET", W() + "/commits/" + encodeURIComponent(id));
  const result = h("p", { role: "status", id: "revert-result" });
  const revert = h("button", { type: "button", id: "revert", onclick: async () => {
    if (!confirmRevert()) return;
    try {
      const r = await api("POST", W() + "/revert", { commit: c.id });
      result.replaceChildren("Reverted in ", link("commit", { id: r.commit }, short(r.commit)),
        r.skipped && r.skipped.length ? "; left alone: " + r.skipped.join(", ") : "", ".");
    } catch (e) { result.replaceChildren(errorBox(e)); }
  } }, "Revert this commit");
  const ops = h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Path"), h("th", { scope: "col" }, "Change"))),
    h("tbody", {}, (c.ops || []).map(o => h("tr", {}, h("td", {}, link("tree", { path: o.path, at: c.id }, o.path + (o.meta ? " (meta)" : ""))), h("td", {}, o.change)))));
  const kids = [h("dl", { class: "value" },
    h("dt", {}, "Id"), h("dd", { class: "id" }, c.id),
    h("dt", {}, "Message"), h("dd", {}, c.message),
    h("dt", {}, "Author"), h("dd", {}, c.author || ""),
    h("dt", {}, "Time"), h("dd", {}, c.time),
    h("dt", {}, "Signature"), h("dd", {}, c.signature || ""),
    h("dt", {}, "Parents"), h("dd", {}, (c.parents || []).map(p => [link("commit", { id: p }, short(p)), " "]))),
    h("h2", {}, "Ops"), ops, h("p", {}, revert), result];
  if (c.call) kids.push(h("h2", {}, "Call"), h("pre", {}, JSON.stringify(c.call, null, 2)));
  if ((c.conflicts || []).length) kids.push(h("p", {}, link("conflicts", { commit: c.id }, c.conflicts.length + " conflicts: losers beside winners")));
  kids.push(h("h2", {}, "Diff"), await diffView(c));
  return page("Commit " + short(c.id), ...kids);
}
function confirmRevert() { return sessionStorage.getItem("coal.noconfirm") === "1" || window.confirm("Make a commit that undoes this one?"); }

// diffView shows each changed path field by field: the value before and
// after, side by side, one row per leaf field (docs/webui.md).
async function diffView(c) {
  if (!(c.parents || []).length) return h("p", { class: "muted" }, "The first commit: everything is new.");
  const d = await api("GET", W() + "/diff" + q({ a: c.parents[0], b: c.id }));
  const out = h("div", { id: "diff" });
  const shown = (d || []).filter(e => !e.meta);
  if (shown.length > 50) out.append(h("p", { class: "muted" }, `The first 50 of ${shown.length} changed paths.`));
  for (const e of shown.slice(0, 50)) {
    const side = async (at, present) => {
      if (!present) return { v: undefined };
      try {
        const m = await api("GET", W() + "/tree/" + enc(e.path) + q({ meta: "1", at }));
        return m.kind === "value" ? { v: m.value } : { v: m.kind + " " + m.id };
      } catch (x) { return { v: undefined, err: x.message }; }
    };
    const [a, b] = await Promise.all([side(c.parents[0], e.change !== "added"), side(c.id, e.change !== "removed")]);
    const sec = h("section", { class: "diff-path", "aria-labelledby": "d-" + out.children.length, "data-path": e.path },
      h("h3", { id: "d-" + out.children.length }, link("tree", { path: e.path, at: c.id }, e.path), " ", h("span", { class: "muted" }, e.change)));
    for (const x of [a, b]) if (x.err) sec.append(h("p", { class: "muted" }, x.err));
    sec.append(fieldTable(fieldDiff(a.v, b.v), "Before", "After", "Fields of " + e.path));
    out.append(sec);
  }
  if (!shown.length) out.append(h("p", { class: "muted" }, "No visible change."));
  return out;
}

// fieldTable shows rows of fieldDiff side by side: the changed fields, then
// the unchanged ones folded away. The change is said in words (a column),
// not by colour alone.
function fieldTable(rows, left, right, caption, tint = ["del", "add"]) {
  const row = r => h("tr", { class: "f-" + r.change, "data-field": r.field },
    h("th", { scope: "row" }, h("code", {}, r.field || "(value)")),
    h("td", { class: r.change === "same" ? "" : tint[0] }, r.a === "" ? h("span", { class: "muted" }, "(none)") : h("code", {}, r.a)),
    h("td", { class: r.change === "same" ? "" : tint[1] }, r.b === "" ? h("span", { class: "muted" }, "(none)") : h("code", {}, r.b)),
    h("td", {}, r.change));
  const head = () => h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, left), h("th", { scope: "col" }, right), h("th", { scope: "col" }, "Change")));
  const diff = rows.filter(r => r.change !== "same"), same = rows.filter(r => r.change === "same");
  const t = h("table", { class: "fields" }, h("caption", { class: "muted" }, caption + ": " + diff.length + " differ"), head(), h("tbody", {}, diff.map(row)));
  if (!same.length) return t;
  return h("div", {}, t, h("details", {}, h("summary", {}, same.length + (same.length === 1 ? " field" : " fields") + " the same"),
    h("table", { class: "fields" }, head(), h("tbody", {}, same.map(row)))));
}

// ---- branches and conflicts ----

async function branchesPage() {
  const bs = await api("GET", W() + "/branches");
  const name = h("input", { id: "bname", required: true });
  const err = h("p", { class: "error", role: "alert" });
  return page("Branches",
    h("table", {}, h("thead", {}, h("tr", {}, ...["Branch", "Head", ""].map(t => h("th", { scope: "col" }, t)))),
      h("tbody", {}, (bs || []).map(b => h("tr", {}, h("td", {}, b.name, b.current ? " (current)" : ""), h("td", { class: "id" }, link("commit", { id: b.head }, short(b.head))),
        h("td", {}, b.current ? "" : h("button", { type: "button", "data-branch": b.name, onclick: async () => {
          try {
            const r = await api("POST", W() + "/merge", { branch: b.name });
            await render();
            const res = document.getElementById("merge-result");
            res.replaceChildren(...[r.fast_forward ? "Fast-forward to " : r.merge ? "Merged in " : "Nothing to merge: ", link("commit", { id: r.commit }, short(r.commit)),
              r.conflicts ? [", ", link("conflicts", { commit: r.commit }, r.conflicts + (r.conflicts === 1 ? " conflict" : " conflicts") + ": losers beside winners")] : [], "."].flat());
            res.focus();
          } catch (e) { err.textContent = e.message; } } }, "Merge ", b.name, " into current")))))),
    h("p", { role: "status", id: "merge-result", tabindex: "-1" }),
    h("form", { class: "toolbar", onsubmit: async ev => { ev.preventDefault(); try { await api("POST", W() + "/branches", { name: name.value.trim() }); render(); } catch (e) { err.textContent = e.message; } } },
      h("label", { for: "bname" }, "New branch"), name, h("button", { type: "submit" }, "Create")), err,
    h("p", {}, link("conflicts", {}, "Conflicts of the head")));
}

// conflictsPage shows each conflict of a merge: the loser beside the
// winner, field by field, with who wrote each side and when.
async function conflictsPage({ commit = "" }) {
  const cs = await api("GET", W() + "/conflicts" + q({ commit }));
  const who = (s, t) => h("div", {}, h("h3", {}, t), h("p", { class: "muted" }, s.author || "(no author)", " · ", s.time || "", s.id ? [" · ", h("code", {}, short(s.id))] : " · deleted"));
  const val = s => s.value != null ? s.value : s.id ? "(object " + short(s.id) + ")" : undefined;
  return page("Conflicts" + (commit ? " of " + short(commit) : ""),
    h("p", {}, commit ? link("commit", { id: commit }, "The merge commit") : "Conflicts of the head (when it is a merge)."),
    (cs || []).length ? h("div", { id: "conflicts" }, (cs || []).map((c, i) => h("section", { class: "conflict", "aria-labelledby": "c-" + i, "data-path": c.path },
      h("h2", { id: "c-" + i }, link("tree", { path: c.path, at: commit }, c.path), c.meta ? " (meta)" : ""),
      h("div", { class: "sides" }, who(c.winner, "Winner (kept)"), who(c.loser, "Loser (not kept)")),
      fieldTable(fieldDiff(val(c.winner), val(c.loser)), "Winner", "Loser", "Fields of " + c.path, ["differ", "differ"]),
      h("details", {}, h("summary", {}, "Both as JSON"), h("div", { class: "sides" },
        h("pre", { class: "winner" }, c.winner.value ? JSON.stringify(c.winner.value, null, 2) : "(no value)"),
        h("pre", { class: "loser" }, c.loser.value ? JSON.stringify(c.loser.value, null, 2) : "(no value)")))))) : h("p", {}, "No conflicts."));
}

// ---- permissions ----

// sourceText says where rights come from (acl.Source): read and write from
// the nearest .acl, admin from an .acl nearer the root or a home directory.
function sourceText(src) {
  const parts = [src.acl ? ["read and write: the rules of ", link("tree", { path: src.acl }, src.acl)] : "no .acl on the way from the root"];
  if (src.home) parts.push(["; admin: owner of ", link("tree", { path: src.admin }, src.admin)]);
  else if (src.admin) parts.push(["; admin from ", link("tree", { path: src.admin }, src.admin)]);
  return h("span", {}, parts);
}

async function aclPage({ path = "/", at = "" }) {
  const a = await api("GET", W() + "/acl/" + enc(path) + q({ at }));
  const name = w => (a.names && a.names[w]) ? `${w} (${a.names[w]})` : w;
  const inp = h("input", { id: "apath", value: path });
  const aclFiles = [...new Set((a.rules || []).map(r => r.acl))];
  const status = h("div", { role: "status", id: "acl-result", tabindex: "-1" });
  // change posts a grant or revoke, then shows the page again with its result.
  const change = async (what, body) => {
    try {
      const r = await api("POST", W() + "/acl/" + what, body);
      await render();
      const st = document.getElementById("acl-result");
      st.replaceChildren(what === "grant" ? "Granted in " : "Revoked in ", link("commit", { id: r.commit }, short(r.commit)), ".");
      st.focus();
    } catch (e) { status.replaceChildren(errorBox(e)); }
  };
  const dirOf = f => f.replace(/\/?\.acl$/, "") || "/";
  const kids = [h("form", { class: "toolbar", onsubmit: ev => { ev.preventDefault(); location.hash = "#/acl" + q({ path: inp.value.trim() }); } },
      h("label", { for: "apath" }, "Path"), inp, h("button", { type: "submit" }, "Show")),
    h("dl", { class: "value" }, h("dt", {}, "You"), h("dd", {}, name(a.as)), h("dt", {}, "Rights"), h("dd", { id: "rights" }, String(a.rights)),
      h("dt", {}, "Granted by"), h("dd", { id: "source" }, sourceText(a.source || {}))),
    h("h2", {}, "Rules"),
    h("table", { id: "acl-rules" }, h("thead", {}, h("tr", {}, ...["ACL", "Who", "Rights", ""].map(t => h("th", { scope: "col" }, t)))),
      h("tbody", {}, (a.rules || []).map(r => h("tr", { "data-who": String(r.who) }, h("td", {}, r.acl), h("td", {}, name(r.who)), h("td", {}, String(r.rights)),
        h("td", {}, at ? "" : h("button", { type: "button", class: "revoke", "aria-label": `Revoke ${r.who} in ${r.acl}`,
          onclick: () => change("revoke", { path: dirOf(r.acl), who: String(r.who) }) }, "Revoke")))))),
    status];
  if (!at) {
    const who = h("input", { id: "grant-who", required: true, "aria-describedby": "grant-who-help", autocapitalize: "off", spellcheck: "false" });
    const boxes = ["read", "write", "admin"].map(r => h("input", { type: "checkbox", id: "grant-" + r, value: r, checked: r === "read" }));
    kids.push(h("form", { id: "grant-form", "aria-labelledby": "grant-title", onsubmit: ev => {
      ev.preventDefault();
      const rights = boxes.filter(b => b.checked).map(b => b.value).join(",");
      change("grant", { path, who: who.value.trim(), rights });
    } }, h("h2", { id: "grant-title" }, "Grant rights on " + path),
      h("label", { for: "grant-who" }, "Who"), who,
      h("div", { id: "grant-who-help", class: "muted help" }, "A key (ed25519:…), the name of a key of this node's home, or group:NAME."),
      h("fieldset", {}, h("legend", {}, "Rights"), boxes.map(b => [b, " ", h("label", { class: "inline", for: b.id }, b.value), " "])),
      h("p", {}, h("button", { type: "submit", id: "grant" }, "Grant"))));
  }
  for (const f of aclFiles) {
    try {
      const log = await api("GET", W() + "/log" + q({ path: f, n: "20" }));
      kids.push(h("h2", {}, "History of " + f), h("ul", {}, (log || []).map(c => h("li", {}, link("commit", { id: c.id }, short(c.id)), " ", c.message, " ", h("span", { class: "muted" }, c.author || "")))));
    } catch (e) { kids.push(errorBox(e)); }
  }
  try {
    const gs = await api("GET", W() + "/groups");
    kids.push(h("h2", {}, "Groups"), (gs || []).length
      ? h("table", { id: "groups" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Group"), h("th", { scope: "col" }, "Members"))),
        h("tbody", {}, gs.map(g => h("tr", { "data-group": g.name }, h("td", {}, g.name),
          h("td", {}, (g.members || []).map(m => (g.names && g.names[m]) ? `${m} (${g.names[m]})` : String(m)).join(", "))))))
      : h("p", { class: "muted" }, "No groups."));
  } catch (e) { kids.push(h("h2", {}, "Groups"), errorBox(e)); }
  return page("Permissions " + path, ...kids);
}

// ---- peers ----

async function peersPage() {
  const kids = [];
  try {
    const st = await api("GET", W() + "/status");
    kids.push(h("h2", {}, "World " + state.world), h("dl", { class: "value" }, h("dt", {}, "Branch"), h("dd", {}, st.branch), h("dt", {}, "Head"), h("dd", { class: "id" }, st.head)));
    kids.push(h("table", {}, h("caption", {}, "Sync status per peer"), h("thead", {}, h("tr", {}, ...["Peer", "Head", "In sync", "Seen"].map(t => h("th", { scope: "col" }, t)))),
      h("tbody", {}, (st.peers || []).map(p => h("tr", {}, h("td", { class: "id" }, short(p.peer)), h("td", { class: "id" }, short(p.head)), h("td", {}, p.in_sync ? "yes" : "no"), h("td", {}, p.seen || ""))))));
    if (!(st.peers || []).length) kids.push(h("p", { class: "muted" }, "No peer shows this world (peers are shown to the node key's identity only)."));
  } catch (e) { kids.push(errorBox(e)); }
  try {
    const ps = await api("GET", "/peers");
    kids.push(h("h2", {}, "Peers"), h("table", {}, h("thead", {}, h("tr", {}, ...["Id", "Connected", "Source", "Latency", "Addresses"].map(t => h("th", { scope: "col" }, t)))),
      h("tbody", {}, (ps || []).map(p => h("tr", {}, h("td", { class: "id" }, p.id), h("td", {}, p.connected ? "yes" : "no"), h("td", {}, p.source || ""),
        h("td", {}, p.latency_ms ? p.latency_ms + " ms" : ""), h("td", {}, (p.addrs || []).join(" ")))))));
    if (!(ps || []).length) kids.push(h("p", { class: "muted" }, "No peers known."));
  } catch (e) { kids.push(h("h2", {}, "Peers"), errorBox(e)); }
  return page("Peers and sync", ...kids);
}

// ---- programs ----

// highlight splits Co source (docs/programs.md: a Forth-like assembly)
// into spans: ( comments ), "strings", numbers, labels and words
// (#label &label >call ~call : ;), upper-case opcodes. The rest is text.
function highlight(src) {
  const pre = h("pre", { id: "source" });
  const re = /(\(\s[^)]*\))|("(?:[^"\\\n]|\\.)*")|(\b(?:0x[0-9a-fA-F]+|\d+)\b)|((?:^|(?<=\s))[#&>~:;+][\w.\-%]*)|(\b[A-Z][A-Z0-9]+\b)/g;
  const cls = [null, "hl-com", "hl-str", "hl-num", "hl-lbl", "hl-kw"];
  let last = 0, m;
  while ((m = re.exec(src))) {
    if (m[0] === "") { re.lastIndex++; continue; }
    pre.append(src.slice(last, m.index));
    const i = m.findIndex((x, j) => j > 0 && x !== undefined);
    pre.append(h("span", { class: cls[i] }, m[0]));
    last = re.lastIndex;
  }
  pre.append(src.slice(last));
  return pre;
}

async function programsPage({ path = "", at = "" }) {
  const inp = h("input", { id: "ppath", value: path, placeholder: "/progs/counter" });
  const kids = [h("form", { class: "toolbar", onsubmit: ev => { ev.preventDefault(); location.hash = "#/programs" + q({ path: inp.value.trim() }); } },
    h("label", { for: "ppath" }, "Program path"), inp, h("button", { type: "submit" }, "Open"))];
  if (path) {
    try {
      const s = await api("GET", W() + "/source/" + enc(path) + q({ at }));
      kids.push(h("h2", {}, "Source"), h("p", { class: "muted" }, "Program ", h("code", {}, short(s.program))), highlight(s.source || ""));
    } catch (e) { kids.push(errorBox(e)); }
    const entry = h("input", { id: "centry", placeholder: "main" });
    const schema = h("input", { id: "cschema" });
    const input = h("textarea", { id: "cinput", rows: 3 }, "");
    const out = h("div", { role: "status", id: "call-result" });
    kids.push(h("form", { id: "call-form", onsubmit: async ev => {
      ev.preventDefault(); out.replaceChildren();
      const body = {};
      if (entry.value.trim()) body.entry = entry.value.trim();
      if (schema.value.trim()) body.schema = schema.value.trim();
      if (input.value.trim()) { try { body.input = JSON.parse(input.value); } catch (e) { out.replaceChildren(errorBox("input: " + e.message)); return; } }
      try {
        const r = await api("POST", W() + "/call/" + enc(path), body);
        out.replaceChildren(h("p", {}, r.commit ? ["Committed ", link("commit", { id: r.commit }, short(r.commit))] : "No writes, no commit", ` · ${r.steps} steps, ${r.writes} writes`),
          h("pre", {}, JSON.stringify(r, null, 2)));
      } catch (e) { out.replaceChildren(errorBox(e)); }
    } }, h("h2", {}, "Run a call"),
      h("label", { for: "centry" }, "Entry (optional)"), entry,
      h("label", { for: "cschema" }, "Input schema (optional)"), schema,
      h("label", { for: "cinput" }, "Input (JSON, optional)"), input,
      h("p", {}, h("button", { class: "primary", type: "submit" }, "Call")), out));
  }
  return page("Programs", ...kids);
}

// ---- query ----

// The query form's fields: [name, label, kind, help]. Their values are the
// page's hash parameters, so a query is a link.
const queryFields = [
  ["prefix", "Prefix", "text", "The directory whose values are queried (with history: a value's path)."],
  ["where", "Where (CEL)", "area", "A CEL expression over the values' fields, _path, _name and _id, e.g. n > 1 && text.startsWith(\"a\"). Ctrl+Enter runs the query."],
  ["follow", "Follow", "text", "Link fields to inline, comma separated (a.b follows a, then b)."],
  ["depth", "Depth", "number", "The most links followed from a row's value (0: the longest follow chain)."],
  ["select", "Select", "text", "The top-level fields returned, comma separated (none: all)."],
  ["order", "Order by", "text", "A field; -field for descending. Default: path order."],
  ["limit", "Limit", "number", "Rows per page; More fetches the next page (0: all)."],
  ["at", "At commit", "text", "A revision: HEAD~2, a branch, an id. Default: the head."],
];
const queryFlags = [["recursive", "Recursive (every value under the prefix)"], ["history", "History (every version of the value at the prefix)"]];

// queryRequest builds the QueryRequest of the page's parameters.
function queryRequest(p) {
  const list = s => (s || "").split(",").map(x => x.trim()).filter(Boolean);
  const r = { prefix: p.prefix || "/" };
  if (p.where) r.where = p.where;
  if (list(p.follow).length) r.follow = list(p.follow);
  if (p.depth) r.depth = Number(p.depth);
  if (list(p.select).length) r.select = list(p.select);
  if (p.order) r.order = p.order;
  if (p.limit) r.limit = Number(p.limit);
  if (p.at) r.at = p.at;
  if (p.recursive === "1") r.recursive = true;
  if (p.history === "1") r.history = true;
  return r;
}

function queryPage(params) {
  const p = { limit: "50", ...params };
  const inputs = {};
  const grid = h("div", { class: "qgrid" }), extra = h("div", { class: "qgrid" });
  const advanced = ["follow", "depth", "select", "at", "recursive", "history"];
  const more = h("details", { id: "q-more", open: advanced.some(n => p[n]) }, h("summary", {}, "More options: follow, depth, select, at, recursive, history"), extra);
  for (const [name, label, kind, help] of queryFields) {
    const id = "q-" + name, attrs = { id, name, "aria-describedby": id + "-help " + id + "-err", value: p[name] || "" };
    const inp = kind === "area"
      ? h("textarea", { ...attrs, rows: 3, spellcheck: "false", autocapitalize: "off", class: "expr" })
      : h("input", { ...attrs, type: kind, ...(kind === "number" ? { min: "0", inputmode: "numeric" } : { autocapitalize: "off", spellcheck: "false" }) });
    if (kind === "area") inp.addEventListener("keydown", ev => { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); form.requestSubmit(); } });
    inputs[name] = inp;
    (advanced.includes(name) ? extra : grid).append(h("div", { class: "field" + (kind === "area" ? " wide" : "") }, h("label", { for: id }, label), inp,
      h("div", { id: id + "-help", class: "muted help" }, help), h("div", { id: id + "-err", class: "field-error" })));
  }
  const flags = h("fieldset", { class: "wide" }, h("legend", {}, "Options"), queryFlags.map(([name, label]) => {
    const inp = h("input", { type: "checkbox", id: "q-" + name, name, checked: p[name] === "1" });
    inputs[name] = inp;
    return h("div", {}, inp, " ", h("label", { class: "inline", for: "q-" + name }, label));
  }));
  const form = h("form", { id: "query-form", "aria-labelledby": "query-title", onsubmit: ev => {
    ev.preventDefault();
    const np = {};
    for (const [name] of queryFields) np[name] = inputs[name].value.trim();
    for (const [name] of queryFlags) np[name] = inputs[name].checked ? "1" : "";
    np.run = "1";
    const hash = "#/query" + q(np);
    if (location.hash === hash) render(); else location.hash = hash;
  } }, h("h2", { id: "query-title", class: "visually-hidden" }, "Query"), grid, more, h("p", {}, h("button", { class: "primary", type: "submit", id: "run-query" }, "Run query")));
  extra.append(flags);
  const res = h("section", { id: "query-results", "aria-labelledby": "results-title" });
  if (p.run !== "1") res.append(h("p", { class: "muted" }, "Rows appear here as the node streams them."));
  return { ...page("Query", form, res), after: () => { if (p.run === "1") runQuery(queryRequest(p), inputs, res); } };
}

// runQuery posts the query and shows its rows as they stream in, as a table
// and as JSON lines, with a More button while the node gives a cursor.
async function runQuery(req, inputs, res) {
  const status = h("p", { role: "status", id: "query-status" }, "Running…");
  const err = h("div", { id: "query-error" });
  const cols = [];
  const headRow = h("tr", {});
  const body = h("tbody", {});
  const table = h("table", { id: "query-table" }, h("caption", { class: "muted" }, "Rows"), h("thead", {}, headRow), body);
  const json = h("pre", { id: "query-json", tabindex: "0", "aria-label": "Rows as JSON lines" });
  const more = h("p", {});
  const viewName = "qview";
  const views = { table: h("div", { id: "view-table" }, table), json: h("div", { id: "view-json", hidden: true }, json) };
  const pick = h("fieldset", { class: "toolbar" }, h("legend", {}, "Show rows as"),
    [["table", "Table"], ["json", "JSON"]].map(([v, l], i) => [h("input", { type: "radio", name: viewName, id: "show-" + v, value: v, checked: i === 0,
      onchange: () => { views.table.hidden = v !== "table"; views.json.hidden = v !== "json"; } }), " ", h("label", { class: "inline", for: "show-" + v }, l), " "]));
  res.replaceChildren(h("h2", { id: "results-title" }, "Results"), status, err, pick, h("div", { class: "scroll" }, views.table), views.json, more);
  const history = !!req.history;
  const addCol = name => { cols.push(name); headRow.append(h("th", { scope: "col" }, name)); for (const tr of body.children) tr.append(h("td", {})); };
  addCol(history ? "Commit" : "Schema"); addCol("Path");
  for (const i of Object.values(inputs)) { i.removeAttribute("aria-invalid"); const e = document.getElementById(i.id + "-err"); if (e) e.replaceChildren(); }
  let total = 0;
  const page = async cursor => {
    const r = await api("POST", W() + "/query", cursor ? { ...req, cursor } : req, { raw: true });
    const lines = new Lines(), reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let end = null, first = null;
    const take = l => {
      let row;
      try { row = JSON.parse(l); } catch (e) { throw new Error("query: a line that is not JSON: " + l.slice(0, 80)); }
      if (row.end) { end = row; return; }
      json.append(l + "\n");
      const v = row.value && typeof row.value === "object" && !Array.isArray(row.value) ? row.value : { "(value)": row.value };
      for (const k of Object.keys(v)) if (!cols.includes(k)) addCol(k);
      const tr = h("tr", { "data-path": row.path });
      for (const c of cols) {
        if (c === "Path") tr.append(h("td", {}, link("tree", { path: row.path, at: history ? row.commit : req.at }, row.path)));
        else if (c === "Commit") tr.append(h("td", { class: "id" }, link("commit", { id: row.commit }, short(row.commit))));
        else if (c === "Schema") tr.append(h("td", {}, row.schema || ""));
        else tr.append(h("td", {}, cell(v[c])));
      }
      body.append(tr);
      if (!first) first = tr;
      total++;
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      lines.push(value).forEach(take);
      status.textContent = total + " rows…";
    }
    lines.end().forEach(take);
    if (!end) throw new Error("query: the stream ended without its last line");
    const st = end.stats || {};
    status.replaceChildren(`${total} ${total === 1 ? "row" : "rows"} at `, link("commit", { id: end.at }, short(end.at)),
      ` · plan: ${st.plan || "?"} · read ${st.read || 0}, matched ${st.matched || 0}` + (end.next ? " · more to come" : ""));
    if (end.error) throw new Problem({ detail: end.error, kind: end.kind }, 200);
    more.replaceChildren(...(end.next ? [h("button", { type: "button", id: "query-more", "data-cursor": end.next, onclick: async ev => {
      ev.target.disabled = true;
      try { const f = await page(end.next); if (f) f.querySelector("a").focus(); } catch (e) { showError(e); }
    } }, "More rows")] : []));
    return first;
  };
  const showError = e => {
    more.replaceChildren();
    const f = fieldOfError(e.message), inp = inputs[f];
    const box = h("div", { role: "alert", class: "error" }, h("p", {}, e.message));
    if (f === "where" && inp) {
      const expr = inp.value;
      for (const x of exprErrors(e.message)) {
        const line = expr.split("\n")[x.line - 1];
        if (line === undefined) continue;
        const pad = Array.from(line).slice(0, x.col - 1).map(ch => ch === "\t" ? "\t" : " ").join("");
        box.append(h("pre", { class: "caret", "aria-label": `line ${x.line}, column ${x.col}` }, line + "\n" + pad + "^ " + x.msg));
      }
    }
    if (!total) { pick.hidden = true; views.table.hidden = true; }
    if (inp) {
      const d = inp.closest("details");
      if (d) d.open = true;
      inp.setAttribute("aria-invalid", "true");
      document.getElementById(inp.id + "-err").replaceChildren(box);
      inp.focus();
      const pos = f === "where" ? exprErrors(e.message)[0] : null;
      if (pos) { const o = offsetOf(inp.value, pos.line, pos.col); inp.setSelectionRange(o, o); }
    } else err.replaceChildren(box);
    if (!total) status.textContent = "The query failed.";
  };
  try { await page(""); } catch (e) { showError(e); }
  if (!req.recursive && !req.history) {
    // The indexes a plan could use (docs/query.md §6).
    try {
      const ix = await api("GET", W() + "/indexes" + q({ dir: req.prefix, at: req.at }));
      res.insertBefore(h("p", { id: "query-indexes", class: "muted" }, "Indexes on " + req.prefix + ": ",
        (ix || []).length ? (ix || []).map(x => x.field).join(", ") : "none", " (an equality or range on one of them in where is answered from it)."), pick);
    } catch (e) { /* a prefix that is not a directory has none */ }
  }
  // The form that had the focus was replaced: give it to the results.
  if (!document.activeElement || document.activeElement === document.body) { res.querySelector("h2").setAttribute("tabindex", "-1"); res.querySelector("h2").focus(); }
}

// ---- modules ----

// modulesPage lists the catalog's modules, or shows one: its interface,
// specs, implementations ranked (verified or not, why, by whom, score) and
// build; verify, evaluate and build run from the page (docs/modules.md).
async function modulesPage({ name = "" }) {
  if (!name) {
    const ms = await api("GET", W() + "/modules");
    return page("Modules",
      (ms || []).length ? h("table", { id: "modules" }, h("caption", { class: "muted" }, (ms || []).length + " modules in /mod"),
        h("thead", {}, h("tr", {}, ...["Module", "Functions", "Specs", "Impls", "Benches", "Results", "Built"].map(t => h("th", { scope: "col" }, t)))),
        h("tbody", {}, (ms || []).map(m => h("tr", { "data-module": m.name },
          h("td", {}, link("modules", { name: m.name }, m.name)), h("td", {}, (m.functions || []).join(", ")),
          h("td", {}, String(m.specs)), h("td", {}, String(m.impls)), h("td", {}, String(m.benches)), h("td", {}, String(m.results)),
          h("td", { class: "id" }, m.built ? short(m.built) : "no")))))
        : h("p", {}, "No modules: publish one with ", h("code", {}, "coal mod publish DIR"), "."));
  }
  const t = await api("GET", W() + "/modules/" + encodeURIComponent(name));
  const out = h("div", { id: "mod-report", role: "status", tabindex: "-1" });
  const steps = h("input", { id: "mod-steps", type: "number", min: "0", inputmode: "numeric", "aria-describedby": "mod-steps-help" });
  const cross = h("input", { id: "mod-cross", type: "number", inputmode: "numeric", "aria-describedby": "mod-cross-help" });
  const dry = h("input", { id: "mod-dry", type: "checkbox" });
  const action = (what, label) => h("button", { type: "button", id: "mod-" + what, onclick: async ev => {
    const btn = ev.currentTarget;
    btn.disabled = true; out.replaceChildren(h("p", {}, label + "…"));
    const body = {};
    if (what !== "build") {
      if (steps.value) body.steps = Number(steps.value);
      if (dry.checked) body.dry_run = true;
      if (what === "verify" && cross.value) body.cross = Number(cross.value);
    }
    try {
      const r = await api("POST", W() + "/modules/" + encodeURIComponent(name) + "/" + what, body);
      await render();
      const o = document.getElementById("mod-report");
      o.replaceChildren(...(what === "build" ? [h("h3", {}, "Build result"), buildView(r, "Built")] : [reportView(r)]));
      o.focus();
    } catch (e) { out.replaceChildren(errorBox(e)); btn.disabled = false; }
  } }, label);
  const rows = t.rows || [];
  return page("Module " + t.module,
    h("p", {}, link("modules", {}, "All modules")),
    h("section", { "aria-labelledby": "iface" }, h("h2", { id: "iface" }, "Interface"),
      h("p", {}, t.doc || ""), h("p", { class: "muted" }, "Interface ", h("code", {}, t.interface)),
      h("table", { id: "mod-functions" }, h("thead", {}, h("tr", {}, ...["Function", "Input", "Output"].map(x => h("th", { scope: "col" }, x)))),
        h("tbody", {}, (t.functions || []).map(f => h("tr", {}, h("td", {}, h("code", {}, f.name)), h("td", {}, f.input), h("td", {}, f.output)))))),
    h("section", { "aria-labelledby": "impls" }, h("h2", { id: "impls" }, "Implementations, ranked"),
      h("p", { class: "muted" }, "Ranked by the steps of a counted evaluate over every bench (fewer is better); only verified implementations are ranked, and build chooses the first."),
      h("div", { class: "scroll" }, h("table", { id: "mod-impls" },
        h("thead", {}, h("tr", {}, ...["Rank", "Implementation", "Verified", "Verified by", "Steps", "Wall", "Built"].map(x => h("th", { scope: "col" }, x)))),
        h("tbody", {}, rows.map(r => h("tr", { "data-impl": r.name, class: r.verified ? "" : "unverified" },
          h("td", {}, r.rank ? String(r.rank) : "–"),
          h("td", {}, r.name, " ", h("code", { class: "muted" }, short(r.impl))),
          h("td", {}, r.verified ? "yes" : ["no", r.why ? [": ", r.why] : ""]),
          h("td", {}, (r.by || []).map(b => short(b.replace(/^ed25519:/, ""))).join(", ")),
          h("td", {}, r.steps !== undefined ? String(r.steps) : ""),
          h("td", {}, r.wall_ns ? (r.wall_ns / 1e6).toFixed(2) + " ms" : ""),
          h("td", {}, r.built ? "built" : ""))))))),
    h("section", { "aria-labelledby": "specs" }, h("h2", { id: "specs" }, "Specs"),
      h("p", { class: "muted" }, `${(t.specs || []).length} specs, ${t.benches} benches, ${t.results} results.`),
      h("table", { id: "mod-specs" }, h("thead", {}, h("tr", {}, ...["Spec", "Cases", "Properties", "Id"].map(x => h("th", { scope: "col" }, x)))),
        h("tbody", {}, (t.specs || []).map(sp => h("tr", {}, h("td", {}, sp.name), h("td", {}, String(sp.cases)), h("td", {}, String(sp.properties)), h("td", { class: "id" }, short(sp.id))))))),
    t.build ? h("section", { "aria-labelledby": "build" }, h("h2", { id: "build" }, "Build"), buildView(t.build, "Built")) : null,
    h("section", { "aria-labelledby": "run" }, h("h2", { id: "run" }, "Verify, evaluate, build"),
      h("div", { class: "toolbar" },
        h("div", {}, h("label", { for: "mod-steps" }, "Step limit per run"), steps, h("div", { id: "mod-steps-help", class: "muted help" }, "Empty: 10,000,000.")),
        h("div", {}, h("label", { for: "mod-cross" }, "Cross-check inputs (verify)"), cross, h("div", { id: "mod-cross-help", class: "muted help" }, "Per function; empty: 100; negative: none."))),
      h("p", {}, dry, " ", h("label", { class: "inline", for: "mod-dry" }, "Dry run (store no Result)")),
      h("p", { class: "toolbar" }, action("verify", "Verify"), action("evaluate", "Evaluate"), action("build", "Build")),
      out));
}

// reportView shows a verify or evaluate report: each implementation's
// outcome, and for a failure the input and the expected and actual
// outputs, field by field.
function reportView(r) {
  const kids = [h("h3", {}, (r.kind === "evaluate" ? "Evaluate" : "Verify") + " report"),
    h("p", {}, r.commit ? ["Stored in ", link("commit", { id: r.commit }, short(r.commit))] : "Nothing stored.",
      (r.new_specs || []).length ? ` · ${r.new_specs.length} new specs found` : "")];
  kids.push(h("table", { id: "mod-results" }, h("thead", {}, h("tr", {}, ...["Implementation", "Outcome", "Runs", "Steps", "Rank"].map(x => h("th", { scope: "col" }, x)))),
    h("tbody", {}, (r.impls || []).map(x => h("tr", { "data-impl": x.name, class: x.pass ? "pass" : "fail" },
      h("td", {}, x.name), h("td", {}, x.skipped ? "skipped: " + x.skipped : x.pass ? "pass" : "fail" + (x.failure ? ": " + x.failure.reason : "")),
      h("td", {}, String(x.runs)), h("td", {}, String(x.steps)), h("td", {}, x.rank ? String(x.rank) : ""))))));
  for (const x of r.impls || []) {
    const f = x.failure;
    if (!f) continue;
    kids.push(h("section", { class: "failure", "data-impl": x.name, "aria-label": "Failure of " + x.name },
      h("h4", {}, x.name, " fails ", h("code", {}, f.function)), h("p", {}, f.reason),
      h("p", {}, "Input: ", h("code", {}, f.input_value !== undefined ? JSON.stringify(f.input_value) : "(not decodable here)")),
      fieldTable(fieldDiff(f.expected_value, f.got_value), "Expected", "Got", "Output of " + x.name)));
  }
  return h("div", {}, kids);
}

function buildView(b, what) {
  return h("dl", { class: "value build" },
    h("dt", {}, what), h("dd", {}, b.name || "", " ", h("code", {}, short(b.impl))),
    h("dt", {}, "Program"), h("dd", { class: "id" }, b.program),
    h("dt", {}, "Steps"), h("dd", {}, String(b.steps)),
    h("dt", {}, "Reason"), h("dd", {}, b.reason || ""),
    h("dt", {}, "Results"), h("dd", {}, (b.results || []).map(short).join(", ")),
    h("dt", {}, "Time"), h("dd", {}, b.time ? new Date(b.time / 1e6).toISOString() : ""));
}

// ---- router ----

const pages = {
  tree: treePage, history: historyPage, commit: commitPage, branches: branchesPage, conflicts: conflictsPage,
  acl: aclPage, peers: peersPage, programs: programsPage,
  query: queryPage, modules: modulesPage,
};

let seq = 0;
async function render() {
  if (!token()) { showSignIn(); return; }
  const r = route();
  for (const a of document.querySelectorAll("#nav a")) {
    const on = a.getAttribute("href") === "#/" + r.page || (r.page === "commit" && a.getAttribute("href") === "#/history") || (r.page === "conflicts" && a.getAttribute("href") === "#/branches");
    if (on) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  const my = ++seq;
  const f = pages[r.page];
  if (!f) { setPage("Not found", h("p", {}, "No page " + r.page + ".")); return; }
  try {
    const out = await f(r.params);
    if (my !== seq || !out) return;
    setPage(out.title, ...out.kids);
    if (out.after) out.after();
  } catch (e) { if (my === seq) setPage("Error", errorBox(e)); }
}

document.getElementById("signout").addEventListener("click", () => signOut());
document.getElementById("world").addEventListener("change", ev => { state.world = ev.target.value; sessionStorage.setItem("coal.world", state.world); startWatch(); render(); });
let lastPage = "";
window.addEventListener("hashchange", () => { const p = route().page; render().then(() => { if (p !== lastPage) main.focus(); lastPage = p; }); });
if (token()) start().catch(e => showSignIn(e.message)); else showSignIn();
