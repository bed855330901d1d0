// A server-sent-events reader over fetch(), because EventSource cannot send
// an Authorization header. watch() reconnects with Last-Event-ID after a
// broken stream, so no commit is missed (docs/api.md, "Resuming").

// SSEParser turns chunks of text into events {id, event, data}; comments
// (": keep-alive") are passed to onComment.
export class SSEParser {
  constructor(onEvent, onComment) {
    this.buf = ""; this.onEvent = onEvent; this.onComment = onComment || (() => {});
    this.reset();
  }
  reset() { this.id = null; this.event = ""; this.data = []; }
  push(text) {
    this.buf += text;
    let i;
    while ((i = this.buf.search(/\r\n|\r|\n/)) >= 0) {
      // A CR at the end may be the first half of a CRLF: wait for more.
      if (this.buf[i] === "\r" && i === this.buf.length - 1) break;
      const line = this.buf.slice(0, i);
      const nl = this.buf[i] === "\r" && this.buf[i + 1] === "\n" ? 2 : 1;
      this.buf = this.buf.slice(i + nl);
      this.line(line);
    }
  }
  line(line) {
    if (line === "") {
      if (this.data.length || this.id !== null) {
        this.onEvent({ id: this.id, event: this.event || "message", data: this.data.join("\n") });
      }
      this.reset();
      return;
    }
    if (line[0] === ":") { this.onComment(line.slice(1).trim()); return; }
    const c = line.indexOf(":");
    const field = c < 0 ? line : line.slice(0, c);
    let value = c < 0 ? "" : line.slice(c + 1);
    if (value[0] === " ") value = value.slice(1);
    if (field === "id") this.id = value;
    else if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
  }
}

// watch opens url with the bearer token and calls onEvent for every event,
// onState with "connecting", "live", "retrying" or "stopped". It returns a
// function that stops it. The last id seen is resent on reconnection.
export function watch(url, token, onEvent, onState) {
  let lastId = null, stopped = false, ctl = null, delay = 500;
  async function run() {
    while (!stopped) {
      ctl = new AbortController();
      onState("connecting");
      try {
        const headers = { Authorization: "Bearer " + token, Accept: "text/event-stream" };
        if (lastId) headers["Last-Event-ID"] = lastId;
        const r = await fetch(url, { headers, signal: ctl.signal, cache: "no-store" });
        if (!r.ok) throw new Error("watch: HTTP " + r.status);
        const p = new SSEParser(ev => {
          if (ev.id) lastId = ev.id;
          try { onEvent(ev); } catch (e) { console.error("watch event", e); }
        },
          c => { if (c === "watching") { onState("live"); delay = 500; } });
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          p.push(value);
        }
      } catch (e) {
        if (stopped) break;
      }
      if (stopped) break;
      onState("retrying");
      await new Promise(res => setTimeout(res, delay));
      delay = Math.min(delay * 2, 15000);
    }
    onState("stopped");
  }
  run();
  return () => { stopped = true; if (ctl) ctl.abort(); };
}
