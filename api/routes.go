// Package api is coal's REST API under /v1 (docs/api.md): JSON over
// net/http pattern routing, bearer-token auth, RFC 9457 problem errors,
// server-sent events for watching paths, and an OpenAPI document generated
// from the route table below.
package api

// Param is a query or path parameter of a Route.
type Param struct {
	Name string
	In   string // "path" or "query"
	Type string // "string", "integer" or "boolean"
	Doc  string
}

// Route is one route of the API. Request and Response name JSON types of
// this package ("" none; "[]T" a list; "bytes" a body of bytes; "sse" an
// event stream). Routes is the table New serves and the OpenAPI document
// describes; a test keeps the three in step.
type Route struct {
	Method   string
	Pattern  string // net/http pattern, after the method
	Summary  string
	Params   []Param
	Request  string
	Response string
	Status   int // success status (0: 200)
}

var (
	pWorld  = Param{"world", "path", "string", "a world's name, id or unique id prefix"}
	pPath   = Param{"path", "path", "string", "a tree path, without the leading /"}
	pAt     = Param{"at", "query", "string", "read the tree of this commit (id, prefix, branch, HEAD~N)"}
	pModule = Param{"name", "path", "string", "a module name, e.g. geometry::circle"}
)

// Routes is the route table of the API.
var Routes = []Route{
	{"GET", "/v1/info", "node version, key and worlds", nil, "", "Info", 0},
	{"GET", "/v1/openapi.json", "this API's OpenAPI document", nil, "", "object", 0},
	{"GET", "/v1/audit", "the node's audit log, oldest first", []Param{{"n", "query", "integer", "only the last n records"}}, "", "[]AuditRecord", 0},
	{"GET", "/v1/worlds", "list worlds", nil, "", "[]World", 0},
	{"POST", "/v1/worlds", "create a world", nil, "NewWorldRequest", "NewWorld", 201},
	{"GET", "/v1/worlds/{world}/status", "branch, head and root", []Param{pWorld}, "", "Status", 0},
	{"GET", "/v1/worlds/{world}/tree/{path...}", "a value as JSON, a blob's bytes, or a directory listing", []Param{pWorld, pPath, pAt,
		{"raw", "query", "boolean", "a value's canonical bytes"},
		{"meta", "query", "boolean", "a value as {path,id,schema,value}"},
		{"download", "query", "boolean", "a blob with Content-Disposition: attachment, named by the path's last segment"}}, "", "Value", 0},
	{"PUT", "/v1/worlds/{world}/tree/{path...}", "put a value (application/json) or a blob (any other type)", []Param{pWorld, pPath,
		{"schema", "query", "string", "the value's schema name"},
		{"message", "query", "string", "the commit message"}}, "bytes", "CommitResult", 201},
	{"DELETE", "/v1/worlds/{world}/tree/{path...}", "delete a value or (recursive) a directory", []Param{pWorld, pPath,
		{"recursive", "query", "boolean", "delete a directory and everything under it"},
		{"message", "query", "string", "the commit message"}}, "", "CommitResult", 0},
	{"POST", "/v1/worlds/{world}/transactions", "many ops, one commit (coal apply)", []Param{pWorld,
		{"message", "query", "string", "the commit message"}}, "[]Op", "CommitResult", 201},
	{"POST", "/v1/worlds/{world}/import", "store the files of a tar archive as blobs, in one commit (coal import)", []Param{pWorld,
		{"to", "query", "string", "the directory to import into"},
		{"message", "query", "string", "the commit message (default: import N files to TO)"}}, "tar", "ImportResult", 201},
	{"GET", "/v1/worlds/{world}/log", "commits, newest first", []Param{pWorld,
		{"path", "query", "string", "only commits touching this path"},
		{"n", "query", "integer", "at most n commits"},
		{"from", "query", "string", "start from this commit"}}, "", "[]CommitSummary", 0},
	{"GET", "/v1/worlds/{world}/commits/{id}", "one commit (coal show)", []Param{pWorld, {"id", "path", "string", "a commit"}}, "", "CommitDetail", 0},
	{"GET", "/v1/worlds/{world}/diff", "changes from a to b", []Param{pWorld,
		{"a", "query", "string", "the first commit"},
		{"b", "query", "string", "the second commit (default: the head)"}}, "", "[]DiffEntry", 0},
	{"POST", "/v1/worlds/{world}/revert", "undo a commit", []Param{pWorld}, "RevertRequest", "RevertResult", 201},
	{"POST", "/v1/worlds/{world}/reset", "a new commit whose content is a past commit's", []Param{pWorld}, "ResetRequest", "CommitResult", 201},
	{"GET", "/v1/worlds/{world}/branches", "list branches", []Param{pWorld}, "", "[]Branch", 0},
	{"POST", "/v1/worlds/{world}/branches", "make a branch", []Param{pWorld}, "NewBranchRequest", "Branch", 201},
	{"DELETE", "/v1/worlds/{world}/branches/{name}", "delete a branch (not main, not the current one), recording a node-local tombstone", []Param{pWorld,
		{"name", "path", "string", "a branch name"}}, "", "", 204},
	{"POST", "/v1/worlds/{world}/merge", "merge a branch into the current one", []Param{pWorld}, "MergeRequest", "MergeResult", 0},
	{"GET", "/v1/worlds/{world}/conflicts", "a merge commit's conflicts", []Param{pWorld,
		{"commit", "query", "string", "the merge commit (default: the head)"}}, "", "[]Conflict", 0},
	{"GET", "/v1/worlds/{world}/schemas", "list schemas", []Param{pWorld, pAt}, "", "[]Schema", 0},
	{"POST", "/v1/worlds/{world}/schemas", "add the schemas of a .coda text", []Param{pWorld,
		{"filename", "query", "string", "the file name used in error positions"}}, "text", "SchemaAdd", 201},
	{"GET", "/v1/worlds/{world}/schemas/{name}", "one schema, as text (coal schema show)", []Param{pWorld, {"name", "path", "string", "a schema name"}, pAt}, "", "SchemaText", 0},
	{"GET", "/v1/worlds/{world}/acl/{path...}", "the caller's effective rights on a path and their source", []Param{pWorld, pPath, pAt}, "", "ACLShow", 0},
	{"POST", "/v1/worlds/{world}/acl/grant", "grant rights", []Param{pWorld}, "GrantRequest", "CommitResult", 201},
	{"POST", "/v1/worlds/{world}/acl/revoke", "revoke a rule", []Param{pWorld}, "RevokeRequest", "CommitResult", 201},
	{"GET", "/v1/worlds/{world}/groups", "list groups", []Param{pWorld}, "", "[]Group", 0},
	{"POST", "/v1/worlds/{world}/groups", "add members to a group, creating it", []Param{pWorld}, "GroupRequest", "CommitResult", 201},
	{"GET", "/v1/worlds/{world}/groups/{name}", "one group", []Param{pWorld, {"name", "path", "string", "a group name"}}, "", "Group", 0},
	{"DELETE", "/v1/worlds/{world}/groups/{name}", "remove members, or the group", []Param{pWorld, {"name", "path", "string", "a group name"}}, "GroupRequest", "CommitResult", 0},
	{"GET", "/v1/worlds/{world}/watch", "server-sent events, one per commit touching a prefix; resumable with Last-Event-ID", []Param{pWorld,
		{"path", "query", "string", "the prefix watched (default /)"}}, "", "sse", 0},
	{"GET", "/v1/peers", "connected, known and bad peers (node key only)", nil, "", "[]Peer", 0},
	{"POST", "/v1/peers", "connect to a peer by its full multiaddr (node key only)", nil, "ConnectRequest", "Peer", 0},
	{"DELETE", "/v1/peers/{id}", "disconnect a peer and forget it (node key only)", []Param{{"id", "path", "string", "a libp2p peer id"}}, "", "PeerRemoved", 0},
	{"POST", "/v1/worlds/{world}/sync", "one round of world sync with every connected peer now, reported per peer and branch (node key only)", []Param{pWorld}, "", "SyncReport", 0},
	{"GET", "/v1/trust", "the trust table: per peer and kind, evidence, score, recheck probability (node key only)", nil, "", "[]TrustPeer", 0},
	{"PUT", "/v1/trust/{peer}", "set a peer's trust policy: allow, deny or auto (node key only)", []Param{{"peer", "path", "string", "a node key (ed25519:…) or a libp2p peer id"}}, "TrustSetRequest", "TrustPeer", 0},
	{"POST", "/v1/collect", "collect modules now from one peer or every connected peer, or discover one module (node key only)", nil, "CollectRequest", "CollectReport", 0},
	{"POST", "/v1/worlds/{world}/switch", "make a branch the current one", []Param{pWorld}, "SwitchRequest", "Branch", 0},
	{"GET", "/v1/audit/verify", "check the audit log's hash chain", nil, "", "AuditVerify", 0},
	{"GET", "/v1/fsck", "check every reachable object (coal fsck)", []Param{{"world", "query", "string", "only this world (default: all)"}}, "", "Fsck", 0},
	{"GET", "/v1/worlds/{world}/replay", "rebuild every commit from genesis and check it (coal replay)", []Param{pWorld}, "", "Replay", 0},
	{"GET", "/v1/worlds/{world}/bundle", "a bundle of the current branch made as the caller; its stats in the Coal-Bundle-Stats trailer", []Param{pWorld,
		{"since", "query", "string", "leave out the commits reachable from this one"},
		{"head", "query", "string", "bundle the history of this commit or branch (default: the current branch)"}}, "", "bytes", 0},
	{"POST", "/v1/worlds/{world}/bundle", "validate and store a bundle's commits in this world", []Param{pWorld}, "bytes", "BundleApply", 0},
	{"POST", "/v1/bundles", "validate and store a bundle in the world it belongs to, created if new", nil, "bytes", "BundleApply", 0},
	{"GET", "/v1/keys", "the home's keys", nil, "", "[]Key", 0},
	{"POST", "/v1/keys", "make a key", nil, "NewKeyRequest", "Key", 201},
	{"POST", "/v1/keys/import", "store an exported key", nil, "ImportKeyRequest", "Key", 201},
	{"GET", "/v1/keys/{name}/export", "a key in its export form, private part included", []Param{{"name", "path", "string", "a key's name"}}, "", "KeyExport", 0},
	{"POST", "/v1/worlds/{world}/call/{path...}", "run the program at a path as the caller; its writes become one commit with a call record", []Param{pWorld, pPath}, "CallRequest", "CallResult", 0},
	{"POST", "/v1/worlds/{world}/triggers", "run a program after each commit that changes a directory (coal on)", []Param{pWorld}, "TriggerRequest", "CommitResult", 201},
	{"POST", "/v1/worlds/{world}/programs/{path...}", "build the Co source in the body and store the Program at a path, its library routines under /lib", []Param{pWorld, pPath,
		{"filename", "query", "string", "the file name used in error positions"},
		{"message", "query", "string", "the commit message"}}, "text", "ProgramAdd", 201},
	{"GET", "/v1/worlds/{world}/source/{path...}", "the readable Co source of the program at a path", []Param{pWorld, pPath, pAt}, "", "ProgramSource", 0},
	{"GET", "/v1/worlds/{world}/lib", "the world's code library: /lib names and library ids", []Param{pWorld}, "", "[]LibEntry", 0},
	{"GET", "/v1/worlds/{world}/lib/{id}", "one library routine by id or unique prefix", []Param{pWorld, {"id", "path", "string", "a library id or unique prefix"}}, "", "LibRoutine", 0},
	{"POST", "/v1/worlds/{world}/query", "run a query (docs/query.md): one JSON line per value, then a last line with end, next cursor and stats", []Param{pWorld}, "QueryRequest", "ndjson", 0},
	{"GET", "/v1/worlds/{world}/indexes", "the indexes on a directory, or on every directory", []Param{pWorld, pAt,
		{"dir", "query", "string", "only the indexes on this directory"}}, "", "[]Index", 0},
	{"POST", "/v1/worlds/{world}/indexes", "declare an index on a directory's field (its entries are built in the same commit)", []Param{pWorld}, "IndexRequest", "CommitResult", 201},
	{"DELETE", "/v1/worlds/{world}/indexes", "drop an index", []Param{pWorld,
		{"dir", "query", "string", "the directory"},
		{"field", "query", "string", "the field"},
		{"message", "query", "string", "the commit message"}}, "", "CommitResult", 0},
	// Modules (docs/modules.md).
	{"POST", "/v1/worlds/{world}/modules", "publish a module DIR's files to the catalog (/mod/NAME), in one commit", []Param{pWorld}, "PublishRequest", "PublishResult", 201},
	{"GET", "/v1/worlds/{world}/modules", "the catalog's modules the caller may read", []Param{pWorld}, "", "[]ModuleSummary", 0},
	{"GET", "/v1/worlds/{world}/modules/{name}", "a module's interface, specs and impls: verified by whom, scores, rank, build", []Param{pWorld, pModule}, "", "ModuleTable", 0},
	{"POST", "/v1/worlds/{world}/modules/{name}/verify", "run every spec on every impl, cross-check, shrink failures into new specs; one signed Result per impl", []Param{pWorld, pModule}, "VerifyRequest", "ModuleReport", 0},
	{"POST", "/v1/worlds/{world}/modules/{name}/evaluate", "run the benches on the verified impls and rank them by steps; one signed Result per impl", []Param{pWorld, pModule}, "EvaluateRequest", "ModuleReport", 0},
	{"POST", "/v1/worlds/{world}/modules/{name}/build", "choose the best-ranked verified impl: write /mod/NAME/build and /mod/NAME/main", []Param{pWorld, pModule}, "", "ModuleBuild", 201},
}
