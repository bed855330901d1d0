package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds a Chromium or Chrome to drive, or "".
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// uiEnv is a browser on a `coal serve` process's web UI.
type uiEnv struct {
	t     *testing.T
	url   string // http://127.0.0.1:PORT
	token string
	ctx   context.Context
	dir   string // screenshots

	dl     string   // downloads, once download was called
	events chan any // download events
}

// do calls the API directly (not through the page) and decodes its JSON.
func (e *uiEnv) do(method, path, ctype string, body []byte, out any) int {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if out != nil && r.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
	return r.StatusCode
}

// run runs browser actions with a deadline, failing the test with what
// was being done.
func (e *uiEnv) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		html, _ := chromedp.Run(e.ctx, chromedp.Evaluate[string](`document.querySelector("main").outerHTML + "\n" + document.querySelector("aside").outerHTML`))
		e.shot("failed-" + strings.NewReplacer(" ", "-", "/", "-", "#", "", "?", "-").Replace(what))
		e.t.Fatalf("%s: %v\npage main:\n%s", what, err, html)
	}
}

// until waits for a JavaScript expression to be true.
func (e *uiEnv) until(what, expr string) {
	e.t.Helper()
	e.run(what, chromedp.Steps(func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))(ctx, t)
		return chromedp.Void{}, err
	}))
}

// shot saves a full-page screenshot as NAME.png in the artifacts dir.
func (e *uiEnv) shot(name string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		e.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(e.dir, name+".png"), png, 0o644); err != nil {
		e.t.Error(err)
	}
}

// eval runs JavaScript for its effect.
func eval(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[any](expr)(ctx, t)
		return chromedp.Void{}, err
	}
}

// value evaluates a JavaScript expression whose value is a string.
func (e *uiEnv) value(expr string) string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		e.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (e *uiEnv) goTo(hash, ready string) {
	e.t.Helper()
	e.run("go to "+hash, eval(fmt.Sprintf("location.hash = %q", hash)))
	e.until("page "+hash, ready)
}

// TestWebUIEndToEnd drives the web UI in headless Chromium against a real
// `coal serve`: sign in, put a value, see it in the tree and its commit in
// history, revert it, see a live update arrive, see a schema error at
// the field. Screenshots of each page go to $COAL_UI_ARTIFACTS (default:
// a temporary directory, printed).
func TestWebUIEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the web UI test builds coal and starts a browser")
	}
	browser := chromiumPath()
	if browser == "" {
		t.Skip("no Chromium found (looked for chromium, chromium-browser, google-chrome, headless-shell in PATH): install Debian's chromium to run the web UI tests")
	}
	dir := os.Getenv("COAL_UI_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("web UI screenshots in %s", dir)

	bin := coalBinary(t)
	home := filepath.Join(t.TempDir(), "home")
	coalRun(t, bin, "init", "--home", home)
	schema := filepath.Join(t.TempDir(), "note.coda")
	os.WriteFile(schema, []byte("schema Note { text: string  n: u32 }\n"), 0o644)
	coalRun(t, bin, "--home", home, "schema", "add", schema)
	p := startServeProc(t, bin, home)
	token, err := os.ReadFile(filepath.Join(home, "token"))
	if err != nil {
		t.Fatal(err)
	}
	e := &uiEnv{t: t, url: strings.TrimSuffix(strings.TrimSuffix(p.url, "/"), "/v1"), token: strings.TrimSpace(string(token)), dir: dir}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1200, 900), chromedp.UserDataDir(t.TempDir()))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	e.ctx = ctx
	if err := chromedp.Do(ctx); err != nil {
		t.Skipf("Chromium at %s does not start: %v", browser, err)
	}

	// Sign in.
	e.run("open", chromedp.Navigate(e.url+"/"), chromedp.WaitVisible(chromedp.CSS("#token")))
	e.shot("01-signin")
	e.checkA11y("sign-in")
	// A wrong token is refused, and the page says so.
	e.run("a wrong token", chromedp.SendKeys(chromedp.CSS("#token"), "not-the-token\r"))
	e.until("refused", `document.getElementById("signin-error").textContent.includes("401") && document.activeElement.id === "token"`)
	// By keyboard: the token, then Enter.
	e.run("sign in", chromedp.SendKeys(chromedp.CSS("#token"), e.token+"\r"))
	e.until("signed in: the tree", `!document.getElementById("nav").hidden && !!document.querySelector("#new-name")`)
	e.until("the watch is live", `document.getElementById("live-state").textContent === "(live)"`)
	// Tab moves the focus to a control, and the focus is visible; the
	// skip link is the first thing Tab reaches on a fresh page.
	e.run("tab", chromedp.KeyEvent("\t"))
	if f := e.value(`(() => { const a = document.activeElement; return a.tagName + " " + getComputedStyle(a).outlineStyle + " " + getComputedStyle(a).outlineWidth })()`); !strings.HasSuffix(f, " solid 3px") || strings.HasPrefix(f, "BODY") {
		t.Errorf("after Tab: focused %q, want a control with a 3px solid outline", f)
	}
	if f := e.value(`document.querySelector("a, button, input, select, textarea").className`); f != "skip" {
		t.Errorf("the first focusable element is %q, want the skip link", f)
	}
	// Revert asks for confirmation; the test says yes beforehand.
	e.run("no confirm", eval(`sessionStorage.setItem("coal.noconfirm", "1")`))

	// The SSE parser, in the page: events split across chunks anywhere,
	// CRLF and CR line ends, comments, multi-line data, no space after ':'.
	parsed := e.value(`(async () => {
		const { SSEParser } = await import("/ui/sse.js");
		const text = ": watching\r\nid: a1\r\nevent: commit\r\ndata: {\"x\":1}\r\n\r\nid:b2\rdata: l1\rdata: l2\r\r: keep-alive\n\n";
		const runs = new Set();
		for (let n = 1; n <= 8; n++) {
			const out = [], com = [];
			const p = new SSEParser(ev => out.push(ev.id + "|" + ev.event + "|" + ev.data), c => com.push(c));
			for (let i = 0; i < text.length; i += n) p.push(text.slice(i, i + n));
			runs.add(JSON.stringify([out, com]));
		}
		return [...runs].join("\n");
	})()`)
	if want := `[["a1|commit|{\"x\":1}","b2|message|l1\nl2"],["watching","keep-alive"]]`; parsed != want {
		t.Errorf("SSEParser: %s, want %s", parsed, want)
	}

	// The watch's reconnect loop, against a fetch that ends the stream,
	// then fails once: each reconnection sends the last id received.
	recon := e.value(`(async () => {
		const { watch } = await import("/ui/sse.js");
		const real = window.fetch, calls = [];
		window.fetch = async (url, opt) => {
			if (url !== "/fake-watch") return real(url, opt);
			calls.push(opt.headers["Last-Event-ID"] || "-");
			if (calls.length === 1) return new Response(": watching\n\nid: c1\nevent: commit\ndata: {}\n\nid: c2\nevent: commit\ndata: {}\n\n");
			if (calls.length === 2) return new Response("busy", { status: 503 });
			return new Response(": watching\n\nid: c3\nevent: commit\ndata: {}\n\n");
		};
		const got = [], states = [];
		await new Promise(res => { const stop = watch("/fake-watch", "t", ev => { got.push(ev.id); if (ev.id === "c3") { stop(); res(); } }, s => states.push(s)); });
		window.fetch = real;
		return JSON.stringify([calls, got, states.slice(0, 7)]);
	})()`)
	if want := `[["-","c2","c2"],["c1","c2","c3"],["connecting","live","retrying","connecting","retrying","connecting","live"]]`; recon != want {
		t.Errorf("watch reconnecting: %s, want %s", recon, want)
	}

	// The page's pure helpers (lib.js): error positions, lines split
	// across chunks, diffs field by field, Content-Disposition names.
	libOut := e.value(`(async () => {
		const L = await import("/ui/lib.js");
		const lines = new L.Lines(), got = [];
		for (const c of ['{"a":', '1}\r\n{"b"', ':2}\n', '{"end":true}']) got.push(...lines.push(c));
		got.push(...lines.end());
		const expr = "é > 1 &&\n  agee";
		return JSON.stringify([
			L.exprErrors("invalid: where:1:3: undeclared reference to 'x'; where:2:3: no such overload"),
			L.offsetOf(expr, 2, 3), L.offsetOf("😀 x", 1, 3),
			got,
			L.fieldDiff({a: 1, b: {c: [1, 2]}, d: "x"}, {a: 1, b: {c: [1, 3]}, e: []}).map(r => r.field + ":" + r.change),
			L.fieldDiff(undefined, "s").map(r => r.field + ":" + r.change + ":" + r.b),
			L.dispositionName("attachment; filename*=utf-8''na%C3%AFve.txt"), L.dispositionName('attachment; filename="a \\"b\\".txt"'), L.dispositionName("attachment; filename=x.txt"),
			L.fieldOfError("invalid: order: no field \"x\" in schema Note"), L.fieldOfError("no commit at HEAD~9"), L.cell("s"), L.cell({a: 1}),
		]);
	})()`)
	if want := `[[{"line":1,"col":3,"msg":"undeclared reference to 'x'"},{"line":2,"col":3,"msg":"no such overload"}],11,3,` +
		`["{\"a\":1}","{\"b\":2}","{\"end\":true}"],["a:same","b.c[0]:same","b.c[1]:changed","d:removed","e:added"],[":added:\"s\""],` +
		`"naïve.txt","a \"b\".txt","x.txt","order","","s","{\"a\":1}"]`; libOut != want {
		t.Errorf("lib.js:\n got %s\nwant %s", libOut, want)
	}

	// Put a value through the page; see it in the tree.
	e.run("put a value",
		chromedp.SendKeys(chromedp.CSS("#new-name"), "a"),
		chromedp.SendKeys(chromedp.CSS("#new-schema"), "Note"),
		chromedp.SetValue(chromedp.CSS("#new-json"), `{"text":"hi","n":1}`),
		chromedp.Click(chromedp.CSS("#new-put")))
	e.until("the value's page", `!!document.querySelector('input[data-field="n"]') && document.getElementById("value-json").textContent.includes('"hi"')`)
	e.shot("03-value")
	e.checkA11y("value")
	var got map[string]any
	if st := e.do("GET", "/v1/worlds/default/tree/a", "", nil, &got); st != 200 || got["text"] != "hi" {
		t.Fatalf("after the put: GET /a: %d %v", st, got)
	}
	e.goTo("#/tree", `[...document.querySelectorAll("main table a")].some(a => a.textContent === "a")`)
	e.shot("02-tree")
	e.checkA11y("tree")

	// A schema error shown at its field.
	e.goTo("#/tree?path=/a", `!!document.querySelector('input[data-field="n"]')`)
	e.run("bad n", chromedp.SetValue(chromedp.CSS(`input[data-field="n"]`), "x"), chromedp.Click(chromedp.CSS("#put")))
	e.until("the error at field n", `(() => { const i = document.querySelector('input[data-field="n"]');
		return i.getAttribute("aria-invalid") === "true" && document.getElementById(i.id + "-err").textContent.length > 0 && document.activeElement === i })()`)
	fieldErr := e.value(`document.getElementById(document.querySelector('input[data-field="n"]').id + "-err").textContent`)
	t.Logf("field error: %s", fieldErr)
	e.shot("04-schema-error")

	// The commit in history; revert it from its page.
	var log []struct{ ID, Message string }
	e.do("GET", "/v1/worlds/default/log?path=/a", "", nil, &log)
	if len(log) != 1 {
		t.Fatalf("log of /a: %v", log)
	}
	id := log[0].ID
	e.goTo("#/history?path=/a", fmt.Sprintf(`[...document.querySelectorAll("#log a")].some(a => a.getAttribute("href").includes(%q))`, id))
	e.shot("05-history")
	e.run("open the commit", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#log a[href*=%q]`, id))))
	e.until("the commit page", `!!document.getElementById("revert") && !!document.getElementById("diff")`)
	e.shot("06-commit")
	e.run("revert", chromedp.Click(chromedp.CSS("#revert")))
	e.until("reverted", `document.getElementById("revert-result").textContent.startsWith("Reverted in")`)
	if st := e.do("GET", "/v1/worlds/default/tree/a", "", nil, nil); st != 404 {
		t.Errorf("after the revert: GET /a: %d, want 404", st)
	}

	// Time travel: /a as it was at the reverted commit.
	e.goTo("#/tree?path=/a&at="+id, `!!document.getElementById("value-json") && document.getElementById("value-json").textContent.includes('"hi"')`)
	e.shot("07-time-travel")

	// A live update: a commit made through the API arrives on the page.
	var put struct{ Commit string }
	if st := e.do("PUT", "/v1/worlds/default/tree/b?schema=Note&message=live", "application/json", []byte(`{"text":"live","n":2}`), &put); st != 201 {
		t.Fatalf("PUT /b: %d", st)
	}
	e.until("the live event", fmt.Sprintf(`!!document.querySelector('#live li[data-id=%q]')`, put.Commit))
	e.shot("08-live")

	// A diff field by field: only n changed, text is the same.
	if st := e.do("PUT", "/v1/worlds/default/tree/b?schema=Note&message=n+3", "application/json", []byte(`{"text":"live","n":3}`), &put); st != 201 {
		t.Fatalf("PUT /b: %d", st)
	}
	diffCommit := put.Commit
	e.goTo("#/commit?id="+diffCommit, `!!document.querySelector('#diff section[data-path="/b"] table')`)
	diff := e.value(`JSON.stringify([...document.querySelectorAll('#diff section[data-path="/b"] tr[data-field]')].map(r => [r.dataset.field, r.className, r.cells[1].textContent, r.cells[2].textContent, r.cells[3].textContent]))`)
	if want := `[["n","f-changed","2","3","changed"],["text","f-same","\"live\"","\"live\"","same"]]`; diff != want {
		t.Errorf("diff of /b, field by field: %s, want %s", diff, want)
	}
	e.shot("17-diff-fields")
	e.checkA11y("commit")

	// A blob: its preview (a Range request), downloaded whole (named by
	// Content-Disposition) and in part (a Range, 206).
	blob := []byte("hello, blob\nline two\n")
	if st := e.do("PUT", "/v1/worlds/default/tree/files/hello.txt", "application/octet-stream", blob, nil); st != 201 {
		t.Fatalf("PUT /files/hello.txt: %d", st)
	}
	e.goTo("#/tree?path=/files/hello.txt", `!!document.getElementById("download") && !!document.getElementById("blob-text")`)
	if got := e.value(`document.getElementById("blob-text").textContent`); got != string(blob) {
		t.Errorf("blob preview: %q, want %q", got, blob)
	}
	e.shot("18-blob")
	e.checkA11y("blob")
	if name, body := e.download(chromedp.Click(chromedp.CSS("#download"))); name != "hello.txt" || !bytes.Equal(body, blob) {
		t.Errorf("download: %q %q, want hello.txt %q", name, body, blob)
	}
	e.run("a range", chromedp.SetValue(chromedp.CSS("#range-from"), "7"), chromedp.SetValue(chromedp.CSS("#range-to"), "10"))
	if name, body := e.download(chromedp.Click(chromedp.CSS("#download-range"))); name != "hello.txt.bytes-7-10" || string(body) != "blob" {
		t.Errorf("range download: %q %q, want hello.txt.bytes-7-10 \"blob\"", name, body)
	}
	e.until("the range's status", `document.getElementById("blob-result").textContent.includes("HTTP 206")`)

	// A conflict: /c written on two branches, merged from the page; the
	// loser is shown beside the winner, field by field.
	var branches []struct {
		Name    string
		Current bool
	}
	e.do("GET", "/v1/worlds/default/branches", "", nil, &branches)
	cur := ""
	for _, b := range branches {
		if b.Current {
			cur = b.Name
		}
	}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/worlds/default/branches", `{"name":"side"}`},
		{"PUT", "/v1/worlds/default/tree/c?schema=Note", `{"text":"on ` + cur + `","n":1}`},
		{"POST", "/v1/worlds/default/switch", `{"name":"side"}`},
		{"PUT", "/v1/worlds/default/tree/c?schema=Note", `{"text":"on side","n":1}`},
		{"POST", "/v1/worlds/default/switch", `{"name":"` + cur + `"}`},
	} {
		if st := e.do(c.method, c.path, "application/json", []byte(c.body), nil); st >= 300 {
			t.Fatalf("%s %s %s: %d", c.method, c.path, c.body, st)
		}
	}
	e.goTo("#/branches", `!!document.querySelector('button[data-branch="side"]')`)
	e.run("merge side", chromedp.Click(chromedp.CSS(`button[data-branch="side"]`)))
	e.until("merged with a conflict", `!!document.querySelector('#merge-result a[href^="#/conflicts"]')`)
	e.shot("09-branches")
	mergeLink := e.value(`document.querySelector('#merge-result a[href^="#/conflicts"]').getAttribute("href")`)
	e.run("open the conflicts", chromedp.Click(chromedp.CSS(`#merge-result a[href^="#/conflicts"]`)))
	e.until("the conflict at /c", `!!document.querySelector('#conflicts section[data-path="/c"] tr[data-field="text"]')`)
	row := e.value(`(() => { const r = document.querySelector('#conflicts section[data-path="/c"] tr[data-field="text"]'); return [r.className, r.cells[1].textContent, r.cells[2].textContent].join("|") })()`)
	if row != `f-changed|"on `+cur+`"|"on side"` && row != `f-changed|"on side"|"on `+cur+`"` {
		t.Errorf("the conflict's text row (winner, loser): %q, want the two sides' texts", row)
	}
	e.shot("10-conflicts")
	e.checkA11y("conflicts")

	// A query: typed into the form, a page of one row, then More; the
	// rows as a table and as JSON; an error at its place in the expression.
	if st := e.do("POST", "/v1/worlds/default/transactions", "application/json", []byte(`[{"op":"mkdir","path":"/notes","schema":"Note"}]`), nil); st != 201 {
		t.Fatalf("mkdir /notes: %d", st)
	}
	for i, n := range []int{1, 2, 3} {
		body := fmt.Sprintf(`{"text":"note %d","n":%d}`, i, n)
		if st := e.do("PUT", fmt.Sprintf("/v1/worlds/default/tree/notes/x%d?schema=Note", i), "application/json", []byte(body), nil); st != 201 {
			t.Fatalf("PUT /notes/x%d: %d", i, st)
		}
	}
	if st := e.do("POST", "/v1/worlds/default/indexes", "application/json", []byte(`{"dir":"/notes","field":"n"}`), nil); st != 201 {
		t.Fatalf("POST indexes: %d", st)
	}
	e.goTo("#/query", `!!document.getElementById("q-prefix")`)
	e.shot("14-query-empty")
	e.run("type a query",
		chromedp.SetValue(chromedp.CSS("#q-limit"), ""),
		chromedp.SendKeys(chromedp.CSS("#q-prefix"), "/notes"),
		chromedp.SendKeys(chromedp.CSS("#q-where"), "n > 1"),
		chromedp.SendKeys(chromedp.CSS("#q-order"), "-n"),
		chromedp.SendKeys(chromedp.CSS("#q-limit"), "1"),
		chromedp.Click(chromedp.CSS("#run-query")))
	e.until("one row and More", `document.querySelectorAll("#query-table tbody tr").length === 1 && !!document.getElementById("query-more") && !!document.getElementById("query-indexes")`)
	if st, ix := e.value(`document.getElementById("query-status").textContent`), e.value(`document.getElementById("query-indexes").textContent`); !strings.Contains(st, "plan: index /notes/.index/n") || !strings.HasPrefix(ix, "Indexes on /notes: n (") {
		t.Errorf("query status %q, indexes %q: want the index's plan and the index listed", st, ix)
	}
	e.shot("14-query")
	e.checkA11y("query")
	e.run("more", chromedp.Click(chromedp.CSS("#query-more")))
	e.until("two rows, no More", `document.querySelectorAll("#query-table tbody tr").length === 2 && !document.getElementById("query-more")`)
	rows := e.value(`JSON.stringify([...document.querySelectorAll("#query-table tr")].map(r => [...r.cells].map(c => c.textContent)))`)
	if want := `[["Schema","Path","text","n"],["Note","/notes/x2","note 2","3"],["Note","/notes/x1","note 1","2"]]`; rows != want {
		t.Errorf("query table: %s, want %s", rows, want)
	}
	if f := e.value(`document.activeElement.textContent`); f != "/notes/x1" {
		t.Errorf("after More the focus is on %q, want the first new row's link", f)
	}
	e.run("as JSON", chromedp.Click(chromedp.CSS("#show-json")))
	e.until("the JSON lines", `!document.getElementById("view-json").hidden && document.getElementById("view-table").hidden`)
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(e.value(`document.getElementById("query-json").textContent`)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("query JSON line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 || lines[0]["path"] != "/notes/x2" || lines[1]["path"] != "/notes/x1" {
		t.Errorf("query JSON: %v", lines)
	}
	e.shot("14-query-json")
	// The error: `agee` at column 10 (where:1:10).
	e.run("a bad where", chromedp.SetValue(chromedp.CSS("#q-where"), "n > 1 && agee == 2"), chromedp.Click(chromedp.CSS("#run-query")))
	e.until("the error at where", `(() => { const w = document.getElementById("q-where");
		return w.getAttribute("aria-invalid") === "true" && document.activeElement === w && !!document.querySelector("#q-where-err pre.caret") })()`)
	caret := e.value(`[document.getElementById("q-where").selectionStart, document.querySelector("#q-where-err pre.caret").textContent].join("|")`)
	if want := "9|n > 1 && agee == 2\n         ^ "; !strings.HasPrefix(caret, want) || !strings.Contains(e.value(`document.getElementById("q-where-err").textContent`), "where:1:10") {
		t.Errorf("the where error: %q (%s), want the caret at column 10", caret, e.value(`document.getElementById("q-where-err").textContent`))
	}
	e.shot("14-query-error")
	// An error in a folded field opens the fold and focuses the field.
	e.goTo("#/query?prefix=%2Fnotes&select=nope&run=1", `(() => { const s = document.getElementById("q-select");
		return document.getElementById("q-more").open && s.getAttribute("aria-invalid") === "true" && document.activeElement === s &&
			document.getElementById("q-select-err").textContent.includes("nope") && document.getElementById("view-table").hidden })()`)

	// A program: its source highlighted, a call run from the page.
	hello, err := os.ReadFile(filepath.Join("..", "..", "examples", "co", "hello.co"))
	if err != nil {
		t.Fatal(err)
	}
	if st := e.do("POST", "/v1/worlds/default/programs/progs/hello?filename=hello.co", "text/plain", hello, nil); st != 201 {
		t.Fatalf("POST programs/progs/hello: %d", st)
	}
	e.goTo("#/programs?path=/progs/hello", `!!document.querySelector("#source .hl-kw") && !!document.querySelector("#source .hl-com")`)
	e.run("call", chromedp.Click(chromedp.CSS("#call-form button")))
	e.until("the call's answer", `document.getElementById("call-result").textContent.length > 0`)
	if r := e.value(`document.getElementById("call-result").textContent`); strings.Contains(r, "cdb") || !strings.Contains(r, "steps") {
		t.Errorf("call result: %q", r)
	}
	e.shot("13-programs")
	e.checkA11y("programs")

	// Permissions: grant a group read on /files from the page, see the
	// rule and the group, revoke it. (Not /notes: a directory with a
	// schema refuses its .acl, "value of schema ACL where Note is
	// required" — a cdb bug, reported.)
	var info struct{ Key string }
	e.do("GET", "/v1/info", "", nil, &info)
	if st := e.do("POST", "/v1/worlds/default/groups", "application/json", []byte(`{"name":"eng","members":["`+info.Key+`"]}`), nil); st != 201 {
		t.Fatalf("POST groups: %d", st)
	}
	e.goTo("#/acl?path=/files", `!!document.getElementById("grant-who") && !!document.querySelector('#groups tr[data-group="eng"]')`)
	e.run("grant", chromedp.SendKeys(chromedp.CSS("#grant-who"), "group:eng"), chromedp.Click(chromedp.CSS("#grant")))
	e.until("granted", `!!document.querySelector('#acl-rules tr[data-who="group:eng"]') && document.getElementById("acl-result").textContent.startsWith("Granted in")`)
	if r := e.value(`document.querySelector('#acl-rules tr[data-who="group:eng"]').textContent`); !strings.Contains(r, "/files/.acl") || !strings.Contains(r, "read") {
		t.Errorf("the granted rule: %q, want /files/.acl, group:eng, read", r)
	}
	if src := e.value(`document.getElementById("source").textContent`); src != "read and write: the rules of /files/.acl; admin from /.acl" {
		t.Errorf("granted by: %q", src)
	}
	e.shot("11-permissions-granted")
	e.checkA11y("permissions")
	e.run("revoke", chromedp.Click(chromedp.CSS(`#acl-rules tr[data-who="group:eng"] button.revoke`)))
	e.until("revoked", `!document.querySelector('#acl-rules tr[data-who="group:eng"]') && document.getElementById("acl-result").textContent.startsWith("Revoked in")`)

	// History by pages: three commits, then a link to six.
	e.goTo("#/history?n=3", `document.querySelectorAll("#log tbody tr").length === 3 && !!document.querySelector('main a[href*="n=6"]')`)
	e.run("more history", chromedp.Click(chromedp.CSS(`main a[href*="n=6"]`)))
	e.until("six commits", `document.querySelectorAll("#log tbody tr").length === 6`)

	// Modules: publish the circle (API), then verify, evaluate and build
	// from its page; the failures shown field by field, the ranking.
	files := map[string]string{}
	modDir := filepath.Join("..", "..", "examples", "modules", "circle")
	if err := filepath.WalkDir(modDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(modDir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	pub, _ := json.Marshal(map[string]any{"dir": "circle", "files": files})
	if st := e.do("POST", "/v1/worlds/default/modules", "application/json", pub, nil); st != 201 {
		t.Fatalf("POST modules: %d", st)
	}
	e.goTo("#/modules", `!!document.querySelector('#modules tr[data-module="geometry::circle"] a')`)
	e.shot("15-modules")
	e.run("open the circle", chromedp.Click(chromedp.CSS(`#modules tr[data-module="geometry::circle"] a`)))
	e.until("the circle's page", `document.querySelectorAll("#mod-impls tbody tr").length === 4 && !!document.getElementById("mod-verify")`)
	e.checkA11y("module")
	start := time.Now()
	e.run("verify", chromedp.SetValue(chromedp.CSS("#mod-cross"), "10"), chromedp.Click(chromedp.CSS("#mod-verify")))
	e.untilLong("verified", `document.querySelectorAll("#mod-results tbody tr").length === 4`, 45*time.Second)
	t.Logf("verify from the page: %v", time.Since(start))
	outcome := e.value(`JSON.stringify([...document.querySelectorAll("#mod-results tbody tr")].map(r => r.dataset.impl + ":" + r.className).sort())`)
	if want := `["careful:pass","cheat:fail","direct:pass","sloppy:fail"]`; outcome != want {
		t.Errorf("verify outcomes: %s, want %s", outcome, want)
	}
	if f := e.value(`String(document.querySelectorAll('#mod-report section.failure[data-impl="cheat"] tr[data-field="yes"].f-changed').length)`); f != "1" {
		t.Errorf("cheat's failure: no changed field yes (expected beside got): %s", e.value(`document.getElementById("mod-report").textContent`))
	}
	e.shot("15-modules-verify")
	e.run("evaluate", chromedp.Click(chromedp.CSS("#mod-evaluate")))
	e.untilLong("evaluated", `!!document.querySelector('#mod-results tr[data-impl="direct"]') && document.querySelector("#mod-report h3").textContent.startsWith("Evaluate")`, 45*time.Second)
	e.run("build", chromedp.Click(chromedp.CSS("#mod-build")))
	e.untilLong("built", `!!document.querySelector('#mod-report dl.build')`, 30*time.Second)
	ranked := e.value(`JSON.stringify([...document.querySelectorAll("#mod-impls tbody tr")].map(r => [r.dataset.impl, r.cells[0].textContent, r.cells[2].textContent.slice(0, 3), r.cells[6].textContent]))`)
	if want := `[["direct","1","yes","built"],["careful","2","yes",""],`; !strings.HasPrefix(ranked, want) || !strings.Contains(ranked, `["cheat","–","no:",""]`) {
		t.Errorf("ranked impls: %s, want direct then careful, cheat not verified", ranked)
	}
	e.shot("15-modules-built")
	e.checkA11y("module built")

	// The other pages render without an error; screenshots of each.
	for _, pg := range []struct{ hash, name, ready string }{
		{"#/tree?path=/b", "03-value-b", `!!document.getElementById("value-json")`},
		{"#/tree", "02-tree-later", `!!document.querySelector("main table")`},
		{"#/history", "05-history-all", `!!document.querySelector("#log tbody tr")`},
		{"#/acl?path=/b", "11-permissions", `!!document.getElementById("rights")`},
		{"#/peers", "12-peers", `document.querySelector("main h1").textContent === "Peers and sync"`},
	} {
		e.goTo(pg.hash, pg.ready)
		if h1 := e.value(`document.querySelector("main h1").textContent`); h1 == "Error" {
			t.Errorf("%s: %s", pg.hash, e.value(`document.querySelector("main").outerHTML`))
		}
		e.shot(pg.name)
		e.checkA11y(pg.hash)
	}
	// A narrow screen.
	e.run("narrow", chromedp.EmulateViewport(375, 800))
	for _, pg := range []struct{ hash, name, ready string }{
		{"#/tree?path=/b", "16-narrow-value", `!!document.getElementById("value-json")`},
		{"#/query?prefix=%2Fnotes&run=1", "16-narrow-query", `document.querySelectorAll("#query-table tbody tr").length === 3`},
		{"#/modules?name=geometry%3A%3Acircle", "16-narrow-module", `document.querySelectorAll("#mod-impls tbody tr").length === 4`},
		{"#/acl?path=/files", "16-narrow-permissions", `!!document.getElementById("grant-form")`},
		{"#/commit?id=" + diffCommit, "16-narrow-commit", `!!document.querySelector("#diff table")`},
		{mergeLink, "16-narrow-conflicts", `!!document.querySelector("#conflicts tr[data-field]")`},
	} {
		e.goTo(pg.hash, pg.ready)
		e.shot(pg.name)
		if e.value(`String(document.documentElement.scrollWidth > window.innerWidth + 1)`) == "true" {
			t.Errorf("%s: at 375px the page scrolls sideways", pg.hash)
		}
	}
}

// untilLong is until with a longer deadline, for work the node does
// (verify, evaluate) rather than the page.
func (e *uiEnv) untilLong(what, expr string, d time.Duration) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, d)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		e.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		e.t.Fatalf("%s: %v\npage main:\n%s", what, err, e.value(`document.querySelector("main").outerHTML`))
	}
}

// a11yCheck lists, one per line, what a page does wrong: an input, select
// or textarea without a label; a tabindex above 0 (focus out of document
// order); visible text under the WCAG AA contrast (4.5:1, large text 3:1)
// against the background it is drawn on.
const a11yCheck = `(() => {
	const out = [];
	const vis = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
	for (const el of document.querySelectorAll("input, select, textarea")) {
		if (el.type === "hidden") continue;
		if (!(el.labels && el.labels.length) && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby")) out.push("no label: " + el.tagName + "#" + el.id);
	}
	for (const el of document.querySelectorAll("[tabindex]")) if (el.tabIndex > 0) out.push("tabindex > 0: " + el.tagName + "#" + el.id);
	const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
	const lum = c => { const f = x => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
	const bgOf = el => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.length === 3 || c[3] === 1) return c; } return [255, 255, 255]; };
	const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), seen = new Set();
	while (w.nextNode()) {
		const el = w.currentNode.parentElement;
		if (!w.currentNode.textContent.trim() || seen.has(el) || !vis(el)) continue;
		seen.add(el);
		const cs = getComputedStyle(el), a = lum(rgb(cs.color)), b = lum(bgOf(el));
		const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), size = parseFloat(cs.fontSize);
		const need = size >= 24 || (Number(cs.fontWeight) >= 700 && size >= 18.66) ? 3 : 4.5;
		if (ratio < need) out.push("contrast " + ratio.toFixed(2) + ": " + el.tagName + " " + JSON.stringify(w.currentNode.textContent.trim().slice(0, 40)));
	}
	return out.join("\n");
})()`

// checkA11y fails the test with what a11yCheck finds on the page, and
// checks that Tab reaches every visible control: from the skip link, it
// presses Tab once per focusable element (and two more) and records where
// the focus went.
func (e *uiEnv) checkA11y(page string) {
	e.t.Helper()
	if bad := e.value(a11yCheck); bad != "" {
		e.t.Errorf("%s: accessibility:\n%s", page, bad)
	}
	n := e.value(`(() => {
		window.__tabbed = new Set();
		if (!window.__tabListen) { window.__tabListen = true; document.addEventListener("focusin", ev => window.__tabbed && window.__tabbed.add(ev.target), true); }
		// Start at the first focusable element, the skip link.
		document.querySelector("a.skip").focus();
		return String(document.querySelectorAll("a[href], button, input, select, textarea, summary, [tabindex]").length + 2);
	})()`)
	var count int
	fmt.Sscan(n, &count)
	e.run("tab through "+page, chromedp.KeyEvent(strings.Repeat("\t", count)))
	missed := e.value(`(() => {
		const vis = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden" && !el.closest("[hidden], details:not([open]) > :not(summary)");
		const want = [...document.querySelectorAll("a[href], button, input, select, textarea, summary")].filter(el => vis(el) && !el.disabled && !(el.type === "radio" && !el.checked));
		return want.filter(el => !window.__tabbed.has(el)).map(el => el.tagName + "#" + el.id + " " + JSON.stringify(el.textContent.trim().slice(0, 30))).join("\n");
	})()`)
	if missed != "" {
		e.t.Errorf("%s: Tab does not reach:\n%s", page, missed)
	}
	e.run("blur", eval(`document.activeElement && document.activeElement.blur()`))
}

// download runs action, which should make the page download a file, and
// answers the file's name (as the page suggested it) and bytes.
func (e *uiEnv) download(action chromedp.Action[chromedp.Void]) (string, []byte) {
	e.t.Helper()
	if e.dl == "" {
		e.dl = e.t.TempDir()
		e.events = make(chan any, 256)
		ctx := e.ctx
		if err := chromedp.Listen(ctx, func(ev any) {
			switch ev.(type) {
			case *browser.EventDownloadWillBegin, *browser.EventDownloadProgress:
				select {
				case e.events <- ev:
				default:
				}
			}
		}); err != nil {
			e.t.Fatal(err)
		}
		e.run("allow downloads", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: e.dl, EventsEnabled: new(true)})
			return err
		}))
	}
	e.run("download", action)
	timeout := time.After(15 * time.Second)
	name := ""
	for {
		select {
		case ev := <-e.events:
			switch ev := ev.(type) {
			case *browser.EventDownloadWillBegin:
				name = ev.SuggestedFilename
			case *browser.EventDownloadProgress:
				switch ev.State {
				case browser.DownloadProgressStateCompleted:
					b, err := os.ReadFile(filepath.Join(e.dl, ev.GUID))
					if err != nil {
						e.t.Fatalf("download %s: %v", name, err)
					}
					return name, b
				case browser.DownloadProgressStateCanceled:
					e.t.Fatalf("download %s canceled", name)
				}
			}
		case <-timeout:
			e.t.Fatalf("no download finished in 15 s (started: %q)", name)
		}
	}
}
