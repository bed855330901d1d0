// Package module is coal's module system (issue 9, docs/modules.md): the
// catalog of interfaces, specifications, implementations and benchmarks
// a world keeps under /mod, and the commands over it. Publish stores a
// module from a directory; Verify runs every spec on every implementation
// as a pure function (module/check) and signs a Result per
// implementation; Evaluate scores verified implementations by the
// deterministic steps of the benchmarks; Build picks the best-ranked
// verified implementation and installs it at /mod/NAME/main. Catalog and
// Import carry catalogs between nodes (the collect protocol); Recheck
// re-runs a peer's signed Result.
package module
