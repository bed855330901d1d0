package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strings"
)

// jsonTypes are the named types the route table refers to.
var jsonTypes = map[string]reflect.Type{
	"Info": reflect.TypeFor[Info](), "World": reflect.TypeFor[World](), "NewWorldRequest": reflect.TypeFor[NewWorldRequest](),
	"NewWorld": reflect.TypeFor[NewWorld](), "CommitResult": reflect.TypeFor[CommitResult](), "Value": reflect.TypeFor[Value](),
	"Entry": reflect.TypeFor[Entry](), "Op": reflect.TypeFor[Op](), "CommitSummary": reflect.TypeFor[CommitSummary](),
	"Change": reflect.TypeFor[Change](), "ConflictRef": reflect.TypeFor[ConflictRef](), "CommitDetail": reflect.TypeFor[CommitDetail](),
	"DiffEntry": reflect.TypeFor[DiffEntry](), "RevertRequest": reflect.TypeFor[RevertRequest](), "RevertResult": reflect.TypeFor[RevertResult](),
	"ResetRequest": reflect.TypeFor[ResetRequest](), "Branch": reflect.TypeFor[Branch](), "NewBranchRequest": reflect.TypeFor[NewBranchRequest](),
	"MergeRequest": reflect.TypeFor[MergeRequest](), "MergeResult": reflect.TypeFor[MergeResult](), "ConflictSide": reflect.TypeFor[ConflictSide](),
	"Conflict": reflect.TypeFor[Conflict](), "Status": reflect.TypeFor[Status](), "Schema": reflect.TypeFor[Schema](),
	"SchemaAdd": reflect.TypeFor[SchemaAdd](), "ACLRule": reflect.TypeFor[ACLRule](), "ACLShow": reflect.TypeFor[ACLShow](),
	"GrantRequest": reflect.TypeFor[GrantRequest](), "RevokeRequest": reflect.TypeFor[RevokeRequest](), "Group": reflect.TypeFor[Group](),
	"GroupRequest": reflect.TypeFor[GroupRequest](), "Problem": reflect.TypeFor[Problem](),
}

var textMarshaler = reflect.TypeFor[interface{ MarshalText() ([]byte, error) }]()

// schemaOf is the JSON Schema of t, referring to named API types by $ref.
func schemaOf(t reflect.Type, top bool) map[string]any {
	if !top {
		for name, jt := range jsonTypes {
			if jt == t {
				return map[string]any{"$ref": "#/components/schemas/" + name}
			}
		}
	}
	if t.Implements(textMarshaler) {
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice, reflect.Array:
		if t == reflect.TypeFor[json.RawMessage]() {
			return map[string]any{}
		}
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), false)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), false)}
	case reflect.Pointer:
		return schemaOf(t.Elem(), false)
	case reflect.Struct:
		props := map[string]any{}
		for f := range t.Fields() {
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			sc := schemaOf(f.Type, false)
			if strings.Contains(opts, "string") {
				sc = map[string]any{"type": "string"}
			}
			props[name] = sc
		}
		return map[string]any{"type": "object", "properties": props}
	}
	return map[string]any{}
}

func bodySchema(name string) map[string]any {
	if rest, ok := strings.CutPrefix(name, "[]"); ok {
		return map[string]any{"type": "array", "items": bodySchema(rest)}
	}
	if name == "AuditRecord" || name == "object" {
		return map[string]any{"type": "object"}
	}
	if name == "WatchEvent" {
		return map[string]any{"type": "object"}
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

var wildcard = regexp.MustCompile(`\{([a-z]+)\.\.\.\}`)

// OpenAPIPath is the OpenAPI path of a net/http pattern ({path...} →
// {path}).
func OpenAPIPath(pattern string) string { return wildcard.ReplaceAllString(pattern, "{$1}") }

// OpenAPI returns the OpenAPI 3.1 document of Routes.
func OpenAPI(version string) map[string]any {
	paths := map[string]any{}
	for _, rt := range Routes {
		p := OpenAPIPath(rt.Pattern)
		item, _ := paths[p].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[p] = item
		}
		var params []any
		for _, pa := range rt.Params {
			params = append(params, map[string]any{"name": pa.Name, "in": pa.In, "required": pa.In == "path", "description": pa.Doc, "schema": map[string]any{"type": pa.Type}})
		}
		status := rt.Status
		if status == 0 {
			status = 200
		}
		var content map[string]any
		switch rt.Response {
		case "":
			// No body (204).
		case "sse":
			content = map[string]any{"text/event-stream": map[string]any{"schema": map[string]any{"type": "string"}}}
		case "ndjson":
			content = map[string]any{"application/x-ndjson": map[string]any{"schema": bodySchema("QueryRow")}}
		case "bytes":
			content = map[string]any{"application/octet-stream": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
		default:
			content = map[string]any{"application/json": map[string]any{"schema": bodySchema(rt.Response)}}
			if strings.Contains(rt.Pattern, "/tree/") && rt.Method == "GET" {
				content["application/octet-stream"] = map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}
			}
		}
		problem := map[string]any{"$ref": "#/components/responses/Problem"}
		op := map[string]any{
			"summary":     rt.Summary,
			"operationId": strings.ToLower(rt.Method) + "_" + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "", "_v1_", "").Replace(rt.Pattern),
			"responses": map[string]any{
				itoa(status): response(rt.Summary, content),
				"400":        problem, "401": problem, "403": problem, "404": problem, "409": problem, "413": problem, "500": problem,
			},
		}
		if params != nil {
			op["parameters"] = params
		}
		if LongRoute(rt.Method + " " + rt.Pattern) {
			op["description"] = "A long job: its handler runs up to the node's long-job timeout (default 1 hour), not the request timeout of other routes (60 s); the client going away cancels it (499), and a canceled verify or evaluate commits nothing."
		}
		switch rt.Request {
		case "":
		case "bytes":
			op["requestBody"] = map[string]any{"content": map[string]any{
				"application/json":         map[string]any{"schema": map[string]any{}},
				"application/octet-stream": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}},
			}}
		case "tar":
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/x-tar": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}
		case "text":
			op["requestBody"] = map[string]any{"content": map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}}
		default:
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": bodySchema(rt.Request)}}}
		}
		item[strings.ToLower(rt.Method)] = op
	}
	schemas := map[string]any{}
	for name, t := range jsonTypes {
		schemas[name] = schemaOf(t, true)
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": "coal node API", "version": version},
		"paths":   paths,
		"components": map[string]any{
			"schemas":         schemas,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"responses": map[string]any{"Problem": map[string]any{"description": "an RFC 9457 problem document",
				"content": map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}},
		},
		"security": []any{map[string]any{"bearer": []any{}}},
	}
}

// response is an OpenAPI response object; a nil content is a response
// without a body.
func response(summary string, content map[string]any) map[string]any {
	if content == nil {
		return map[string]any{"description": summary}
	}
	return map[string]any{"description": summary, "content": content}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func (s *server) openapi(w http.ResponseWriter, r *http.Request, c *call) error {
	s.docOnce.Do(func() { s.doc, s.docErr = json.MarshalIndent(OpenAPI(s.opts.Version), "", "  ") })
	if s.docErr != nil {
		return s.docErr
	}
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(s.doc)
	return err
}
