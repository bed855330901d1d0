package message

import (
	"encoding/json"

	"github.com/coalescent/coal/coda"
)

// The module routes' messages (docs/modules.md, docs/api.md "Modules").

// PublishRequest is the body of POST .../modules (coal mod publish DIR):
// the files of a module DIR (docs/modules.md, "The DIR format"), sent by
// the client because the node may not see the client's files.
type PublishRequest struct {
	// Dir is the DIR's base name: errors name files as DIR/FILE:LINE:COL.
	Dir string `json:"dir"`
	// Files maps each file's slash-separated path inside DIR
	// ("interface.json", "impls/direct.co") to its text.
	Files map[string]string `json:"files"`
}

// ModuleEntry is one entry of a module's catalog (/mod/NAME/...).
type ModuleEntry struct {
	Kind   string  `json:"kind"` // interface, spec, impl, code, bench, result, build, main
	Module string  `json:"module"`
	ID     coda.ID `json:"id"`
	Path   string  `json:"path"`
}

// PublishResult answers POST .../modules: the module, its interface, the
// commit made (absent if every object was already there), every entry
// of the DIR, and how many were new.
type PublishResult struct {
	Module    string        `json:"module"`
	Interface coda.ID       `json:"interface"`
	Commit    *coda.ID      `json:"commit,omitempty"`
	Entries   []ModuleEntry `json:"entries"`
	New       int           `json:"new"`
}

// ModuleSummary is one module of GET .../modules (coal mod ls).
type ModuleSummary struct {
	Name      string   `json:"name"`
	Interface coda.ID  `json:"interface"`
	Functions []string `json:"functions"`
	Specs     int      `json:"specs"`
	Impls     int      `json:"impls"`
	Benches   int      `json:"benches"`
	Results   int      `json:"results"`
	Built     *coda.ID `json:"built,omitempty"` // the impl build chose
}

// ModuleFunction is a function of an interface: its name and the names
// of its input and output schemas.
type ModuleFunction struct {
	Name   string `json:"name"`
	Input  string `json:"input"`
	Output string `json:"output"`
}

// ModuleSpec is one spec of a module: its id, name and size.
type ModuleSpec struct {
	ID         coda.ID `json:"id"`
	Name       string  `json:"name"`
	Cases      int     `json:"cases"`
	Properties int     `json:"properties"`
}

// ModuleRow is one impl of ModuleTable: verified or not (why not, and by
// whose Results if so), its score (steps of the counted evaluate Result)
// and its rank among the verified scored impls (1 the best, 0 none).
type ModuleRow struct {
	Impl     coda.ID  `json:"impl"`
	Name     string   `json:"name"`
	Program  coda.ID  `json:"program"`
	Verified bool     `json:"verified"`
	Why      string   `json:"why,omitempty"`
	By       []string `json:"by,omitempty"`
	Steps    *uint64  `json:"steps,omitempty"`
	Wall     uint64   `json:"wall_ns,omitempty"`
	Rank     int      `json:"rank,omitempty"`
	Built    bool     `json:"built,omitempty"`
}

// ModuleBuild is a module's build record (/mod/NAME/build): the impl
// chosen (and its name), its program, its score, the Results it rests
// on, why, and when (Unix nanoseconds).
type ModuleBuild struct {
	Interface coda.ID   `json:"interface"`
	Impl      coda.ID   `json:"impl"`
	Name      string    `json:"name,omitempty"`
	Program   coda.ID   `json:"program"`
	Steps     uint64    `json:"steps"`
	Results   []coda.ID `json:"results"`
	Reason    string    `json:"reason"`
	Time      int64     `json:"time"`
}

// ModuleTable answers GET .../modules/{name} (coal mod show NAME): the
// interface, the specs, and one row per impl in build's order (ranked
// first, then the others by id).
type ModuleTable struct {
	Module    string           `json:"module"`
	Interface coda.ID          `json:"interface"`
	Doc       string           `json:"doc"`
	Functions []ModuleFunction `json:"functions"`
	Specs     []ModuleSpec     `json:"specs"`
	Benches   int              `json:"benches"`
	Results   int              `json:"results"`
	Rows      []ModuleRow      `json:"rows"`
	Build     *ModuleBuild     `json:"build,omitempty"`
	// Names maps the keys of the rows' By that the node's home holds to
	// their local names, for a client to show beside them.
	Names map[string]string `json:"names,omitempty"`
}

// VerifyRequest is the body of POST .../modules/{name}/verify (coal
// verify NAME); every field may be left out.
type VerifyRequest struct {
	// Impls limits verify to these impls (names or ids); empty: all.
	Impls []string `json:"impls,omitempty"`
	// Cross is the number of random inputs per function the impls are
	// run against each other on (0: 100; negative: none).
	Cross int `json:"cross,omitempty"`
	// Steps is the step limit of one run (0: 10⁷).
	Steps uint64 `json:"steps,omitempty"`
	// DryRun stores nothing.
	DryRun bool `json:"dry_run,omitempty"`
}

// EvaluateRequest is the body of POST .../modules/{name}/evaluate (coal
// evaluate NAME); every field may be left out.
type EvaluateRequest struct {
	Steps  uint64 `json:"steps,omitempty"`
	DryRun bool   `json:"dry_run,omitempty"`
}

// ModuleFailure is why an impl failed verify. Input, Expected and Got are
// CODA objects (base64 in JSON); the *_value fields are the same as JSON
// values of their schemas, when the world's /sys/schemas has them.
type ModuleFailure struct {
	Spec          coda.ID         `json:"spec"`
	Function      string          `json:"function"`
	Input         []byte          `json:"input"`
	Expected      []byte          `json:"expected,omitempty"`
	Got           []byte          `json:"got,omitempty"`
	Reason        string          `json:"reason"`
	InputValue    json.RawMessage `json:"input_value,omitempty"`
	ExpectedValue json.RawMessage `json:"expected_value,omitempty"`
	GotValue      json.RawMessage `json:"got_value,omitempty"`
}

// ModuleImplReport is what verify or evaluate found about one impl.
type ModuleImplReport struct {
	Impl    coda.ID        `json:"impl"`
	Name    string         `json:"name"`
	Pass    bool           `json:"pass"`
	Failure *ModuleFailure `json:"failure,omitempty"`
	Runs    int            `json:"runs"`
	Steps   uint64         `json:"steps"`
	Wall    uint64         `json:"wall_ns"`
	Result  *coda.ID       `json:"result,omitempty"` // the signed Result stored (made, in a dry run)
	Rank    int            `json:"rank,omitempty"`
	Skipped string         `json:"skipped,omitempty"`
}

// ModuleReport answers POST .../verify and .../evaluate: one report per
// impl (evaluate: ranked first, then the skipped), the specs verify found
// and stored, and the commit made (absent in a dry run or if nothing was
// stored).
type ModuleReport struct {
	Module   string             `json:"module"`
	Kind     string             `json:"kind"` // verify or evaluate
	Impls    []ModuleImplReport `json:"impls"`
	NewSpecs []coda.ID          `json:"new_specs,omitempty"`
	Commit   *coda.ID           `json:"commit,omitempty"`
}
