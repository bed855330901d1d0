package message

import "github.com/coalescent/coal/coda"

// SchemaText is GET .../schemas/{name} (coal schema show --json): a
// schema of /sys/schemas and its text in the schema language, which
// compiles (with the schemas it names) to the same id.
type SchemaText struct {
	Name string  `json:"name"`
	ID   coda.ID `json:"id"`
	Text string  `json:"text"`
}
