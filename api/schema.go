package api

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/coalescent/coal/api/message"
	"github.com/coalescent/coal/cdb"
	"github.com/coalescent/coal/coda"
	"github.com/coalescent/coal/errs"
)

func init() { jsonTypes["SchemaText"] = reflect.TypeFor[SchemaText]() }

// SchemaText answers GET .../schemas/{name}.
type SchemaText = message.SchemaText

// schema answers one schema of /sys/schemas, read through the caller's
// view (a schema it may not read does not exist for it), as text.
func (s *server) schema(w http.ResponseWriter, r *http.Request, c *call) error {
	v, at, err := s.viewAt(r, c)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	p := cdb.SchemasDir + "/" + name
	if _, err := v.Get(at, p); err != nil {
		return err
	}
	reg, err := v.World().Schemas(at)
	if err != nil {
		return err
	}
	sc, ok := reg.Lookup(name)
	if !ok {
		return errs.E(errs.NotExist, errs.Path(p), "no schema "+name)
	}
	return writeJSON(w, 0, SchemaText{Name: name, ID: sc.ID, Text: SchemaSource(sc)})
}

// SchemaSource writes sc in the schema language (docs/coda.md): one field
// or variant a line, every variant with its tag, so that it compiles —
// with the schemas it names — to sc's id.
func SchemaSource(sc *coda.Schema) string {
	var b strings.Builder
	if sc.Kind == coda.KindEnum {
		fmt.Fprintf(&b, "enum %s {\n", sc.Name)
		for _, v := range sc.Variants {
			b.WriteString("\t" + v.Name)
			if v.Payload != nil {
				b.WriteString("(" + v.Payload.String() + ")")
			}
			fmt.Fprintf(&b, " = %d\n", v.Tag)
		}
	} else {
		fmt.Fprintf(&b, "schema %s {\n", sc.Name)
		for _, f := range sc.Fields {
			fmt.Fprintf(&b, "\t%s: %s\n", f.Name, f.Type.String())
		}
	}
	b.WriteString("}\n")
	return b.String()
}
