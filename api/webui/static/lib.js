// Pure helpers of the web UI (no DOM, no fetch), so the end-to-end test can
// check them in the page: query error positions, NDJSON lines, field-by-field
// diffs, Content-Disposition names.

// exprErrors finds the positions a query error names in its expression:
// "where:LINE:COLUMN: message" (docs/query.md §2; several joined by "; "),
// both 1-based. It answers [{line, col, msg}] in the order found.
export function exprErrors(detail) {
  const out = [];
  const re = /\bwhere:(\d+):(\d+): ((?:(?!; where:\d+:\d+: ).)*)/gs;
  let m;
  while ((m = re.exec(detail || ""))) out.push({ line: Number(m[1]), col: Number(m[2]), msg: m[3] });
  return out;
}

// fieldOfError names the query form field an error is about: the first
// "NAME:" of the detail, for NAME a part of a query (docs/query.md §1).
export function fieldOfError(detail) {
  const m = /(?:^|[\s(])(where|order|select|follow|depth|limit|cursor|at|prefix|history):/.exec(detail || "");
  return m ? m[1] : "";
}

// offsetOf converts a 1-based LINE:COLUMN of expr (columns count code
// points, as CEL's do) to an index into the JavaScript string (UTF-16).
export function offsetOf(expr, line, col) {
  const lines = expr.split("\n");
  let off = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) off += lines[i].length + 1;
  const l = lines[Math.min(line, lines.length) - 1] || "";
  const cps = Array.from(l).slice(0, Math.max(col - 1, 0));
  return off + Math.min(cps.join("").length, l.length);
}

// Lines splits a stream of text chunks into lines (LF or CRLF). push
// returns the complete lines of what was pushed so far; end the rest.
export class Lines {
  constructor() { this.buf = ""; }
  push(text) {
    this.buf += text;
    const parts = this.buf.split("\n");
    this.buf = parts.pop();
    return parts.map(l => l.replace(/\r$/, "")).filter(l => l !== "");
  }
  end() { const l = this.buf.replace(/\r$/, ""); this.buf = ""; return l ? [l] : []; }
}

// leaves flattens a value into [fieldPath, leaf]: "a.b", "items[0]",
// "" for a value that is not a struct or list. Empty lists and structs are
// leaves themselves, so they show in a diff.
export function leaves(v, prefix = "", out = []) {
  if (v !== null && typeof v === "object" && Object.keys(v).length) {
    for (const [k, x] of Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v)) {
      leaves(x, Array.isArray(v) ? prefix + "[" + k + "]" : (prefix ? prefix + "." + k : k), out);
    }
  } else out.push([prefix, v]);
  return out;
}

// fieldDiff compares two values field by field (undefined: no value on
// that side). Each row is {field, a, b, change}, change one of "same",
// "changed", "added", "removed"; a and b are the leaves as JSON text
// ("" when absent). Rows come in a's field order, then b's new fields.
export function fieldDiff(a, b) {
  const la = a === undefined ? [] : leaves(a), lb = b === undefined ? [] : leaves(b);
  const ma = new Map(la.map(([k, v]) => [k, JSON.stringify(v)]));
  const mb = new Map(lb.map(([k, v]) => [k, JSON.stringify(v)]));
  const keys = [...ma.keys(), ...[...mb.keys()].filter(k => !ma.has(k))];
  return keys.map(k => {
    const x = ma.get(k), y = mb.get(k);
    const change = x === undefined ? "added" : y === undefined ? "removed" : x === y ? "same" : "changed";
    return { field: k, a: x === undefined ? "" : x, b: y === undefined ? "" : y, change };
  });
}

// dispositionName is the file name a Content-Disposition header gives
// (filename*=UTF-8''… preferred, RFC 6266), or "".
export function dispositionName(h) {
  if (!h) return "";
  const star = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(h);
  if (star) { try { return decodeURIComponent(star[2].trim()); } catch (e) { /* fall through */ } }
  const q = /filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(h);
  if (q) return q[1].replace(/\\(.)/g, "$1");
  const t = /filename\s*=\s*([^;\s]+)/i.exec(h);
  return t ? t[1] : "";
}

// cell is a query result's field as table text: strings unquoted, other
// values as JSON, absent fields empty.
export function cell(v) {
  if (v === undefined) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}
