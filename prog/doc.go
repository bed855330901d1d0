// Package prog is the Program object — a Co program stored as a tree value —
// and the content-addressed code library.
//
// A Program holds the COINS code of a Co program, its named entry points,
// its exported routines with their library ids, the ids of the library
// routines it links at load time, its tokenised Co source, and the id of
// the COINS version it targets. Build makes one from Co source; Encode and
// Decode give its canonical CODA object; Link gives the final ROM.
//
// Library routines are stored in a canonical, position-independent form
// (Routine) whose object id is the routine's library id (reference decision
// 8): the names of the routines it calls are replaced by their ids, so one
// id means exactly one piece of code. docs/programs.md is the specification.
package prog
