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
		e.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
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

	// Put a value through the page; see it in the tree.
	e.run("put a value",
		chromedp.SendKeys(chromedp.CSS("#new-name"), "a"),
		chromedp.SendKeys(chromedp.CSS("#new-schema"), "Note"),
		chromedp.SetValue(chromedp.CSS("#new-json"), `{"text":"hi","n":1}`),
		chromedp.Click(chromedp.CSS("#new-put")))
	e.until("the value's page", `!!document.querySelector('input[data-field="n"]') && document.getElementById("value-json").textContent.includes('"hi"')`)
	e.shot("03-value")
	var got map[string]any
	if st := e.do("GET", "/v1/worlds/default/tree/a", "", nil, &got); st != 200 || got["text"] != "hi" {
		t.Fatalf("after the put: GET /a: %d %v", st, got)
	}
	e.goTo("#/tree", `[...document.querySelectorAll("main table a")].some(a => a.textContent === "a")`)
	e.shot("02-tree")

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

	// The other pages render without an error; screenshots of each.
	for _, pg := range []struct{ hash, name, ready string }{
		{"#/branches", "09-branches", `!!document.querySelector("main table")`},
		{"#/conflicts", "10-conflicts", `document.querySelector("main h1").textContent === "Conflicts"`},
		{"#/acl?path=/b", "11-permissions", `!!document.getElementById("rights")`},
		{"#/peers", "12-peers", `document.querySelector("main h1").textContent === "Peers and sync"`},
		{"#/query", "14-query", `!!document.querySelector(".placeholder")`},
		{"#/modules", "15-modules", `!!document.querySelector(".placeholder")`},
	} {
		e.goTo(pg.hash, pg.ready)
		if h1 := e.value(`document.querySelector("main h1").textContent`); h1 == "Error" {
			t.Errorf("%s: %s", pg.hash, e.value(`document.querySelector("main").outerHTML`))
		}
		e.shot(pg.name)
	}
	// A narrow screen.
	e.run("narrow", chromedp.EmulateViewport(375, 800))
	e.goTo("#/tree?path=/b", `!!document.getElementById("value-json")`)
	e.shot("16-narrow-value")
	if e.value(`String(document.documentElement.scrollWidth > window.innerWidth + 1)`) == "true" {
		t.Errorf("at 375px the page scrolls sideways")
	}
}
