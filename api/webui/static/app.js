// The coal web UI: hash-routed pages over the REST API (/v1). Every
// request carries the token from sessionStorage as a Bearer header.
// docs/webui.md lists the pages and the routes each calls.
import { watch } from "./sse.js";

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
  const headers = { Authorization: "Bearer " + token() };
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

function setPage(title, ...kids) {
  main.replaceChildren(h("h1", {}, title), ...kids);
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
      h("label", { class: "inline", for: "use-json" }, useJSON, " send the JSON below"), json),
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
    kids.push(h("p", {}, link("history", { path }, "History of " + path), " · ", link("acl", { path }, "Permissions")));
    if (!at) kids.push(newValueForm(path));
  } else if (meta.kind === "blob") {
    const btn = h("button", { type: "button", onclick: async () => {
      const r = await api("GET", W() + "/tree/" + enc(path) + q({ at: meta.at }), undefined, { raw: true });
      const url = URL.createObjectURL(await r.blob());
      const a = h("a", { href: url, download: path.split("/").pop() });
      document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } }, "Download");
    kids.push(h("p", {}, "Blob, ", String(meta.size || 0), " bytes, id ", h("code", {}, meta.id), " "), btn);
  } else {
    const schemaName = await schemaNameOf(meta.schema, at);
    kids.push(h("p", {}, "Value, schema ", h("code", {}, schemaName || short(meta.schema)), ", id ", h("code", {}, short(meta.id))),
      h("div", { class: "sides" },
        h("section", { "aria-labelledby": "form-view" }, h("h2", { id: "form-view" }, "Fields"), valueView(meta.value)),
        h("section", { "aria-labelledby": "json-view" }, h("h2", { id: "json-view" }, "JSON"), h("pre", { id: "value-json" }, JSON.stringify(meta.value, null, 2)))));
    if (path.split("/").length > 1) kids.push(h("p", {}, link("history", { path }, "History of " + path), " · ", link("programs", { path }, "As a program"), " · ", link("acl", { path }, "Permissions")));
    if (!at) kids.push(editForm(path, meta.value, schemaName));
  }
  setPage(title, ...kids);
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
  setPage("History " + path,
    h("form", { class: "toolbar", onsubmit: ev => { ev.preventDefault(); location.hash = "#/history" + q({ path: inp.value.trim() }); } },
      h("label", { for: "hpath" }, "Path"), inp, h("button", { type: "submit" }, "Show")),
    h("table", { id: "log" }, h("thead", {}, h("tr", {}, ...["Commit", "Message", "Author", "Time"].map(t => h("th", { scope: "col" }, t)))), h("tbody", {}, rows)));
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
  setPage("Commit " + short(c.id), ...kids);
}
function confirmRevert() { return sessionStorage.getItem("coal.noconfirm") === "1" || window.confirm("Make a commit that undoes this one?"); }

// diffView shows each changed path's value before and after, side by side.
async function diffView(c) {
  if (!(c.parents || []).length) return h("p", { class: "muted" }, "The first commit: everything is new.");
  const d = await api("GET", W() + "/diff" + q({ a: c.parents[0], b: c.id }));
  const out = h("div", { id: "diff" });
  for (const e of (d || []).slice(0, 50)) {
    if (e.meta) continue;
    const side = async (at, id, cls) => {
      if (!id) return h("p", { class: "muted" }, "(none)");
      try {
        const m = await api("GET", W() + "/tree/" + enc(e.path) + q({ meta: "1", at }));
        return h("pre", { class: cls }, m.kind === "value" ? JSON.stringify(m.value, null, 2) : m.kind + " " + short(m.id));
      } catch (x) { return h("p", { class: "muted" }, x.message); }
    };
    out.append(h("section", { "aria-label": "Diff of " + e.path }, h("h3", {}, e.path, " ", h("span", { class: "muted" }, e.change)),
      h("div", { class: "sides" }, h("div", {}, h("h4", {}, "Before"), await side(c.parents[0], e.a, "del")), h("div", {}, h("h4", {}, "After"), await side(c.id, e.b, "add")))));
  }
  return out;
}

// ---- branches and conflicts ----

async function branchesPage() {
  const bs = await api("GET", W() + "/branches");
  const name = h("input", { id: "bname", required: true });
  const err = h("p", { class: "error", role: "alert" });
  setPage("Branches",
    h("table", {}, h("thead", {}, h("tr", {}, ...["Branch", "Head", ""].map(t => h("th", { scope: "col" }, t)))),
      h("tbody", {}, (bs || []).map(b => h("tr", {}, h("td", {}, b.name, b.current ? " (current)" : ""), h("td", { class: "id" }, link("commit", { id: b.head }, short(b.head))),
        h("td", {}, b.current ? "" : h("button", { type: "button", onclick: async () => {
          try { await api("POST", W() + "/merge", { branch: b.name }); render(); } catch (e) { err.textContent = e.message; } } }, "Merge into current")))))),
    h("form", { class: "toolbar", onsubmit: async ev => { ev.preventDefault(); try { await api("POST", W() + "/branches", { name: name.value.trim() }); render(); } catch (e) { err.textContent = e.message; } } },
      h("label", { for: "bname" }, "New branch"), name, h("button", { type: "submit" }, "Create")), err,
    h("p", {}, link("conflicts", {}, "Conflicts of the head")));
}

async function conflictsPage({ commit = "" }) {
  const cs = await api("GET", W() + "/conflicts" + q({ commit }));
  const side = (s, t) => h("section", {}, h("h3", {}, t), h("p", { class: "muted" }, (s.author || ""), " ", s.time || ""), h("pre", {}, s.value ? JSON.stringify(s.value, null, 2) : short(s.id) || "(deleted)"));
  setPage("Conflicts" + (commit ? " of " + short(commit) : ""),
    (cs || []).length ? h("div", {}, (cs || []).map(c => h("section", { "aria-label": "Conflict at " + c.path }, h("h2", {}, c.path),
      h("div", { class: "sides" }, side(c.winner, "Winner"), side(c.loser, "Loser"))))) : h("p", {}, "No conflicts."));
}

// ---- permissions ----

async function aclPage({ path = "/", at = "" }) {
  const a = await api("GET", W() + "/acl/" + enc(path) + q({ at }));
  const name = w => (a.names && a.names[w]) ? `${w} (${a.names[w]})` : w;
  const inp = h("input", { id: "apath", value: path });
  const aclFiles = [...new Set((a.rules || []).map(r => r.acl))];
  const kids = [h("form", { class: "toolbar", onsubmit: ev => { ev.preventDefault(); location.hash = "#/acl" + q({ path: inp.value.trim() }); } },
      h("label", { for: "apath" }, "Path"), inp, h("button", { type: "submit" }, "Show")),
    h("dl", { class: "value" }, h("dt", {}, "You"), h("dd", {}, name(a.as)), h("dt", {}, "Rights"), h("dd", { id: "rights" }, String(a.rights)),
      h("dt", {}, "Granted by"), h("dd", {}, h("code", {}, JSON.stringify(a.source)))),
    h("h2", {}, "Rules"),
    h("table", {}, h("thead", {}, h("tr", {}, ...["ACL", "Who", "Rights"].map(t => h("th", { scope: "col" }, t)))),
      h("tbody", {}, (a.rules || []).map(r => h("tr", {}, h("td", {}, r.acl), h("td", {}, name(r.who)), h("td", {}, String(r.rights))))))];
  for (const f of aclFiles) {
    try {
      const log = await api("GET", W() + "/log" + q({ path: f, n: "20" }));
      kids.push(h("h2", {}, "History of " + f), h("ul", {}, (log || []).map(c => h("li", {}, link("commit", { id: c.id }, short(c.id)), " ", c.message, " ", h("span", { class: "muted" }, c.author || "")))));
    } catch (e) { kids.push(errorBox(e)); }
  }
  setPage("Permissions " + path, ...kids);
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
  setPage("Peers and sync", ...kids);
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
  setPage("Programs", ...kids);
}

// Query (issue 10) and modules (issue 9) have no API yet.
function placeholderPage(name, issue) {
  setPage(name, h("div", { class: "placeholder", role: "note" },
    h("p", {}, `Not built yet: the ${name.toLowerCase()} page comes with issue ${issue}.`)));
}

// ---- router ----

const pages = {
  tree: treePage, history: historyPage, commit: commitPage, branches: branchesPage, conflicts: conflictsPage,
  acl: aclPage, peers: peersPage, programs: programsPage,
  query: () => placeholderPage("Query", 10), modules: () => placeholderPage("Modules", 9),
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
  try { await f(r.params); } catch (e) { if (my === seq) setPage("Error", errorBox(e)); }
}

document.getElementById("signout").addEventListener("click", () => signOut());
document.getElementById("world").addEventListener("change", ev => { state.world = ev.target.value; sessionStorage.setItem("coal.world", state.world); startWatch(); render(); });
let lastPage = "";
window.addEventListener("hashchange", () => { const p = route().page; render().then(() => { if (p !== lastPage) main.focus(); lastPage = p; }); });
if (token()) start().catch(e => showSignIn(e.message)); else showSignIn();
