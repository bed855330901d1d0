package codatest

import "github.com/coalescent/coal/coda"

// Profile is the representative struct of the CODA benchmarks (docs/perf.md):
// strings, integers, a nested struct, a list, a map, an optional and an enum.
//
//	schema Profile {
//	  id: u64  name: string  email: string  age: u32  verified: bool
//	  birthday: Date  tags: list<string>  scores: map<string, i64>
//	  friends: list<u64>  kind: Kind  nick: optional<string>
//	}
var Profile = NewStruct("Profile",
	F("id", Prim(coda.KindU64)),
	F("name", Prim(coda.KindString)),
	F("email", Prim(coda.KindString)),
	F("age", Prim(coda.KindU32)),
	F("verified", Prim(coda.KindBool)),
	F("birthday", Ref(Date)),
	F("tags", ListOf(Prim(coda.KindString))),
	F("scores", MapOf(Prim(coda.KindString), Prim(coda.KindI64))),
	F("friends", ListOf(Prim(coda.KindU64))),
	F("kind", Ref(Kind)),
	F("nick", OptionalOf(Prim(coda.KindString))),
)

// ProfileValue is the benchmarks' Profile value (about 200 bytes encoded).
func ProfileValue() coda.Value {
	return coda.Struct(
		coda.U64(1234567890123),
		coda.String("Ada Lovelace"),
		coda.String("ada@analytical-engine.example"),
		coda.U32(36),
		coda.Bool(true),
		coda.Struct(coda.U8(10), coda.U8(12), coda.U32(1815)),
		coda.List(coda.String("mathematics"), coda.String("poetry"), coda.String("engines"), coda.String("notes"), coda.String("bernoulli")),
		coda.Map(
			coda.MapEntry{Key: coda.String("algebra"), Value: coda.I64(97)},
			coda.MapEntry{Key: coda.String("analysis"), Value: coda.I64(88)},
			coda.MapEntry{Key: coda.String("geometry"), Value: coda.I64(-3)},
			coda.MapEntry{Key: coda.String("logic"), Value: coda.I64(1 << 40)},
			coda.MapEntry{Key: coda.String("music"), Value: coda.I64(12)},
		),
		coda.List(coda.U64(1), coda.U64(2), coda.U64(3), coda.U64(5), coda.U64(8), coda.U64(13), coda.U64(21), coda.U64(34)),
		coda.Enum(0),
		coda.Some(coda.String("Ada")),
	)
}
