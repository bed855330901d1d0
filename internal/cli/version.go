package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
)

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print coal's version",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if e.json {
				return e.printJSON(struct {
					Version string `json:"version"`
					Go      string `json:"go"`
				}{Version, runtime.Version()})
			}
			_, err := fmt.Fprintf(e.stdout, "coal %s (%s)\n", Version, runtime.Version())
			return err
		},
	}
}
