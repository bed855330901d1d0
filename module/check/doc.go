// Package check runs module implementations as pure functions and
// generates and shrinks their inputs: the machinery under `coal verify`
// and `coal evaluate` (docs/modules.md).
//
// Run evaluates a Program object at one entry with one input under the
// modules' calling convention: a Core machine whose tree device sees a
// synthetic read-only tree holding only /sys/schemas/NAME for the
// interface's schemas (and any extra paths, such as a predicate's
// /output), so every node runs an implementation identically and step
// counts compare everywhere.
//
// Generate draws a random canonical CODA object of a schema within bounds,
// deterministically from a PCG (every node that seeds it alike draws the
// same inputs); Shrink reduces a failing input greedily to a small one that
// still fails. SPEC.md specifies both exactly, for a second implementation.
package check
