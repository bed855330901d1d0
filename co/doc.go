// Package co implements Co, the assembly language of the Core machine
// (package coins): a lexer, a parser of modules (imports, macros, routines
// and top-level code), an assembler that expands macros at assembly time and
// links routines for run time (copied into the ROM, or linked by content id
// when the program is loaded), the standard library of Co modules shipped
// with coal, a disassembler whose output assembles back to the same bytes,
// and the tokenised binary form of Co source (Tokenise, Detokenise).
//
// The language is specified in docs/co.md. Errors about source text carry
// FILE:LINE:COL positions and are collected into an ErrorList, as go/scanner
// does; no input makes the package panic. Package prog builds on it: the
// Program object stored in the tree and the content-addressed code library.
package co
