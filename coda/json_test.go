package coda

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/coalescent/coal/errs"
)

// Hand-built schemas, as the compiler would build them from:
//
//	schema Date { day: u8  month: u8  year: u32 }
//	schema Person {
//	  name: string  birthday: Date  nick: optional<string>  tags: list<string>
//	  scores: map<string, i64>  photo: optional<link<Blob>>  kind: Kind
//	}
//	enum Kind { Human  Robot(u32) }
//	schema Blob { data: bytes }
var (
	testDate = &Schema{ID: testID(1), Name: "Date", Kind: KindStruct, Fields: []Field{
		{"day", Type{Kind: KindU8}}, {"month", Type{Kind: KindU8}}, {"year", Type{Kind: KindU32}},
	}}
	testKind = &Schema{ID: testID(2), Name: "Kind", Kind: KindEnum, Variants: []Variant{
		{"Human", 0, nil}, {"Robot", 1, &Type{Kind: KindU32}},
	}}
	testBlob   = &Schema{ID: testID(3), Name: "Blob", Kind: KindStruct, Fields: []Field{{"data", Type{Kind: KindBytes}}}}
	testPerson = &Schema{ID: testID(4), Name: "Person", Kind: KindStruct, Fields: []Field{
		{"name", Type{Kind: KindString}},
		{"birthday", *refType(testDate)},
		{"nick", Type{Kind: KindOptional, Elem: &Type{Kind: KindString}}},
		{"tags", Type{Kind: KindList, Elem: &Type{Kind: KindString}}},
		{"scores", Type{Kind: KindMap, Key: &Type{Kind: KindString}, Elem: &Type{Kind: KindI64}}},
		{"photo", Type{Kind: KindOptional, Elem: &Type{Kind: KindLink, Elem: refType(testBlob)}}},
		{"kind", *refType(testKind)},
	}}
)

func testID(b byte) ID {
	var id ID
	for i := range id {
		id[i] = b
	}
	return id
}

func refType(s *Schema) *Type { return &Type{Kind: KindRef, Ref: s.ID, Schema: s} }

type testResolver map[ID]*Schema

func (r testResolver) SchemaByID(id ID) (*Schema, error) {
	if s, ok := r[id]; ok {
		return s, nil
	}
	return nil, errs.E(errs.NotExist, fmt.Sprintf("coda: unknown schema %s", id))
}

var testSchemas = testResolver{testDate.ID: testDate, testKind.ID: testKind, testBlob.ID: testBlob, testPerson.ID: testPerson}

func testPersonValue() Value {
	return Struct(
		String("Ada"),
		Struct(U8(10), U8(12), U32(1815)),
		Some(String("countess")),
		List(String("math"), String("poetry")),
		Map(MapEntry{String("chess"), I64(-3)}, MapEntry{String("analysis"), I64(1 << 62)}),
		Some(Link(testID(9))),
		Enum(1, U32(7)),
	)
}

const testPersonJSON = `{"name":"Ada","birthday":{"day":10,"month":12,"year":1815},"nick":"countess",` +
	`"tags":["math","poetry"],"scores":{"analysis":"4611686018427387904","chess":"-3"},` +
	`"photo":"beeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeq","kind":{"Robot":7}}`

func TestJSONPerson(t *testing.T) {
	got, err := SchemaToJSON(testPerson, testPersonValue(), testSchemas)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != testPersonJSON {
		t.Errorf("SchemaToJSON =\n%s\nwant\n%s", got, testPersonJSON)
	}
	v, err := SchemaFromJSON(testPerson, got, testSchemas)
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(v, testPersonValue()) {
		t.Errorf("SchemaFromJSON(SchemaToJSON(v)) != v")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	u8, i64, str := &Type{Kind: KindU8}, &Type{Kind: KindI64}, &Type{Kind: KindString}
	opt := func(e *Type) *Type { return &Type{Kind: KindOptional, Elem: e} }
	mapOf := func(k, v *Type) *Type { return &Type{Kind: KindMap, Key: k, Elem: v} }
	anyT := &Type{Kind: KindAny}
	tests := []struct {
		t    *Type
		v    Value
		json string
	}{
		{&Type{Kind: KindBool}, Bool(true), `true`},
		{&Type{Kind: KindBool}, Bool(false), `false`},
		{u8, U8(0), `0`},
		{u8, U8(255), `255`},
		{&Type{Kind: KindU16}, U16(65535), `65535`},
		{&Type{Kind: KindU32}, U32(math.MaxUint32), `4294967295`},
		{&Type{Kind: KindU64}, U64(math.MaxUint64), `"18446744073709551615"`},
		{&Type{Kind: KindU64}, U64(0), `"0"`},
		{&Type{Kind: KindI8}, I8(-128), `-128`},
		{&Type{Kind: KindI16}, I16(-32768), `-32768`},
		{&Type{Kind: KindI32}, I32(math.MinInt32), `-2147483648`},
		{i64, I64(math.MinInt64), `"-9223372036854775808"`},
		{i64, I64(math.MaxInt64), `"9223372036854775807"`},
		{&Type{Kind: KindF32}, F32(0.1), `0.1`},
		{&Type{Kind: KindF32}, F32(float32(math.Inf(-1))), `"-Infinity"`},
		{&Type{Kind: KindF32}, nan32, `"NaN"`},
		{&Type{Kind: KindF32}, F32(float32(math.Copysign(0, -1))), `-0`},
		{&Type{Kind: KindF64}, F64(0.1), `0.1`},
		{&Type{Kind: KindF64}, F64(1e21), `1e+21`},
		{&Type{Kind: KindF64}, F64(1e-7), `1e-7`},
		{&Type{Kind: KindF64}, F64(-2.5), `-2.5`},
		{&Type{Kind: KindF64}, F64(math.Inf(1)), `"Infinity"`},
		{&Type{Kind: KindF64}, nan64, `"NaN"`},
		{&Type{Kind: KindF64}, F64(math.Copysign(0, -1)), `-0`},
		{&Type{Kind: KindF64}, F64(math.MaxFloat64), `1.7976931348623157e+308`},
		{&Type{Kind: KindF64}, F64(5e-324), `5e-324`},
		{str, String(""), `""`},
		{str, String("a\"b\\c\n\t\x01é☃"), `"a\"b\\c\n\t\u0001é☃"`},
		{&Type{Kind: KindBytes}, Bytes([]byte{}), `""`},
		{&Type{Kind: KindBytes}, Bytes([]byte{0xff, 0, 1}), `"/wAB"`},
		{&Type{Kind: KindFixedBytes, N: 2}, FixedBytes([]byte{1, 2}), `"AQI="`},
		{&Type{Kind: KindFixedBytes, N: 0}, FixedBytes(nil), `""`},
		{&Type{Kind: KindLink, Elem: refType(testBlob)}, Link(testID(0)), `"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"`},
		{&Type{Kind: KindList, Elem: u8}, List(), `[]`},
		{&Type{Kind: KindList, Elem: &Type{Kind: KindList, Elem: u8}}, List(List(U8(1)), List()), `[[1],[]]`},
		{mapOf(str, u8), Map(), `{}`},
		{mapOf(&Type{Kind: KindI32}, u8), Map(MapEntry{I32(10), U8(1)}, MapEntry{I32(-5), U8(2)}), `{"-5":2,"10":1}`},
		{mapOf(&Type{Kind: KindU64}, u8), Map(MapEntry{U64(math.MaxUint64), U8(1)}), `{"18446744073709551615":1}`},
		{mapOf(&Type{Kind: KindBool}, u8), Map(MapEntry{Bool(true), U8(1)}, MapEntry{Bool(false), U8(0)}), `{"false":0,"true":1}`},
		{mapOf(&Type{Kind: KindBytes}, u8), Map(MapEntry{Bytes([]byte{1}), U8(1)}, MapEntry{Bytes(nil), U8(0)}), `{"":0,"AQ==":1}`},
		{mapOf(&Type{Kind: KindFixedBytes, N: 1}, u8), Map(MapEntry{FixedBytes([]byte{7}), U8(1)}), `{"Bw==":1}`},
		{mapOf(&Type{Kind: KindLink, Elem: anyT}, u8), Map(MapEntry{Link(testID(0)), U8(1)}), `{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa":1}`},
		{mapOf(refType(testColor), u8), Map(MapEntry{Enum(2), U8(1)}, MapEntry{Enum(0), U8(2)}), `{"Red":2,"Blue":1}`},
		{mapOf(str, mapOf(str, u8)), Map(MapEntry{String("a"), Map(MapEntry{String("b"), U8(1)})}), `{"a":{"b":1}}`},
		{opt(u8), None(), `null`},
		{opt(u8), Some(U8(3)), `3`},
		{opt(opt(u8)), None(), `null`},
		{opt(opt(u8)), Some(None()), `[null]`},
		{opt(opt(u8)), Some(Some(U8(3))), `[3]`},
		{opt(opt(opt(u8))), Some(Some(None())), `[[null]]`},
		{refType(testDate), Struct(U8(1), U8(2), U32(3)), `{"day":1,"month":2,"year":3}`},
		{refType(testKind), Enum(0), `"Human"`},
		{refType(testKind), Enum(1, U32(0)), `{"Robot":0}`},
		{refType(testEmpty), Struct(), `{}`},
		{anyT, Any(testDate.ID, Struct(U8(1), U8(2), U32(3))),
			`{"schema":"aeaqcaibaeaqcaibaeaqcaibaeaqcaibaeaqcaibaeaqcaibaeaq","value":{"day":1,"month":2,"year":3}}`},
		{refType(testTree), Struct(U8(1), List(Struct(U8(2), List()))), `{"v":1,"kids":[{"v":2,"kids":[]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.t.String()+"/"+tt.json, func(t *testing.T) {
			got, err := ToJSON(tt.t, tt.v, testSchemas)
			if err != nil {
				t.Fatalf("ToJSON: %v", err)
			}
			if string(got) != tt.json {
				t.Errorf("ToJSON = %s, want %s", got, tt.json)
			}
			v, err := FromJSON(tt.t, []byte(tt.json), testSchemas)
			if err != nil {
				t.Fatalf("FromJSON: %v", err)
			}
			if !Equal(v, tt.v) {
				t.Errorf("FromJSON(%s) = %#v, want %#v", tt.json, v, tt.v)
			}
		})
	}
}

var (
	testColor = &Schema{ID: testID(5), Name: "Color", Kind: KindEnum, Variants: []Variant{
		{"Red", 0, nil}, {"Green", 1, nil}, {"Blue", 2, nil},
	}}
	testEmpty = &Schema{ID: testID(6), Name: "Empty", Kind: KindStruct}
	// schema Tree { v: u8  kids: list<Tree> }, a recursive group of one.
	testTree = func() *Schema {
		s := &Schema{ID: testID(7), Name: "Tree", Kind: KindStruct}
		s.Fields = []Field{
			{"v", Type{Kind: KindU8}},
			{"kids", Type{Kind: KindList, Elem: &Type{Kind: KindRec, N: 0, Schema: s}}},
		}
		s.Group = []*Schema{s}
		return s
	}()
)

// TestJSONInputForms checks the inputs accepted besides the canonical output.
func TestJSONInputForms(t *testing.T) {
	tests := []struct {
		t    *Type
		json string
		want Value
	}{
		{&Type{Kind: KindU64}, `18446744073709551615`, U64(math.MaxUint64)},
		{&Type{Kind: KindI64}, ` -42 `, I64(-42)},
		{&Type{Kind: KindF64}, `1E2`, F64(100)},
		{&Type{Kind: KindF64}, `3`, F64(3)},
		{&Type{Kind: KindF32}, `16777217`, F32(16777216)},
		{&Type{Kind: KindString}, `"\ud83d\ude00 \\ud800 \"\u00e9"`, String("😀 \\ud800 \"é")},
		{&Type{Kind: KindLink, Elem: &Type{Kind: KindAny}}, `"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"`, Link(ID{})},
		{refType(testDate), "{\n \"year\": 3, \"day\": 1,\t\"month\": 2 }", Struct(U8(1), U8(2), U32(3))},
		{refType(testPerson), `{"kind":"Human","scores":{},"tags":[],"birthday":{"day":1,"month":2,"year":3},"name":""}`,
			Struct(String(""), Struct(U8(1), U8(2), U32(3)), None(), List(), Map(), None(), Enum(0))},
	}
	for _, tt := range tests {
		v, err := FromJSON(tt.t, []byte(tt.json), testSchemas)
		if err != nil {
			t.Errorf("FromJSON(%s, %s): %v", tt.t, tt.json, err)
			continue
		}
		if !Equal(v, tt.want) {
			t.Errorf("FromJSON(%s, %s) = %#v, want %#v", tt.t, tt.json, v, tt.want)
		}
	}
}

// TestJSONShuffledKeys checks that JSON documents differing only in key order
// and whitespace give the same value, and so the same output.
func TestJSONShuffledKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	want, _ := SchemaToJSON(testPerson, testPersonValue(), testSchemas)
	for i := 0; i < 50; i++ {
		doc := shuffleJSON(t, want, rng)
		v, err := SchemaFromJSON(testPerson, doc, testSchemas)
		if err != nil {
			t.Fatalf("SchemaFromJSON(%s): %v", doc, err)
		}
		got, err := SchemaToJSON(testPerson, v, testSchemas)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("shuffled %s\ngave %s\nwant %s", doc, got, want)
		}
		if !Equal(v, testPersonValue()) {
			t.Fatalf("shuffled %s gave a different value", doc)
		}
	}
}

// shuffleJSON reorders the keys of every object in doc and sprinkles spaces.
func shuffleJSON(t *testing.T, doc []byte, rng *rand.Rand) []byte {
	n, err := parseJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var write func(n *jnode)
	ws := func() {
		b.WriteString([]string{"", " ", "\n", "\t "}[rng.IntN(4)])
	}
	write = func(n *jnode) {
		ws()
		switch n.kind {
		case 'n':
			b.WriteString("null")
		case 'b':
			fmt.Fprint(&b, n.b)
		case '#':
			b.WriteString(n.s)
		case 's':
			b.Write(appendJSONString(nil, n.s))
		case '[':
			b.WriteByte('[')
			for i := range n.elems {
				if i > 0 {
					b.WriteByte(',')
				}
				write(&n.elems[i])
			}
			b.WriteByte(']')
		case '{':
			b.WriteByte('{')
			for j, i := range rng.Perm(len(n.keys)) {
				if j > 0 {
					b.WriteByte(',')
				}
				ws()
				b.Write(appendJSONString(nil, n.keys[i]))
				ws()
				b.WriteByte(':')
				write(&n.elems[i])
			}
			b.WriteByte('}')
		}
		ws()
	}
	write(&n)
	return []byte(b.String())
}

func TestFromJSONErrors(t *testing.T) {
	person := func(patch string) string {
		// A valid Person with one field replaced or added.
		base := map[string]string{
			"name": `"Ada"`, "birthday": `{"day":1,"month":2,"year":3}`, "tags": `[]`,
			"scores": `{}`, "kind": `"Human"`,
		}
		k, v, _ := strings.Cut(patch, "=")
		if v == "" {
			delete(base, k)
		} else {
			base[k] = v
		}
		var parts []string
		for _, f := range []string{"name", "birthday", "nick", "tags", "scores", "photo", "kind", "bogus"} {
			if x, ok := base[f]; ok {
				parts = append(parts, fmt.Sprintf("%q:%s", f, x))
			}
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	u8 := &Type{Kind: KindU8}
	tests := []struct {
		t    *Type
		json string
		want string
	}{
		{refType(testPerson), person(`birthday={"day":"x","month":2,"year":3}`), `birthday.day: expected u8, got "x"`},
		{refType(testPerson), person(`birthday={"day":256,"month":2,"year":3}`), `birthday.day: expected u8, got 256 (out of range)`},
		{refType(testPerson), person(`birthday={"day":1.5,"month":2,"year":3}`), `birthday.day: expected u8, got 1.5`},
		{refType(testPerson), person(`birthday={"day":-1,"month":2,"year":3}`), `birthday.day: expected u8, got -1 (out of range)`},
		{refType(testPerson), person(`birthday={"day":1,"month":2}`), `birthday: missing field "year" of Date`},
		{refType(testPerson), person(`birthday={"day":1,"month":2,"year":3,"era":1}`), `birthday: unknown field "era" in Date`},
		{refType(testPerson), `{"name":"a","name":"b"}`, `duplicate key "name"`},
		{refType(testPerson), person(`name=`), `missing field "name" of Person`},
		{refType(testPerson), person(`name=null`), `name: expected string, got null`},
		{refType(testPerson), person(`bogus=1`), `unknown field "bogus" in Person`},
		{refType(testPerson), person(`tags=["a",3]`), `tags[1]: expected string, got 3`},
		{refType(testPerson), person(`scores={"a":1.5}`), `scores["a"]: expected i64, got 1.5`},
		{refType(testPerson), person(`scores={"a":"01"}`), `scores["a"]: expected i64, got "01"`},
		{refType(testPerson), person(`scores={"a":"+1"}`), `scores["a"]: expected i64, got "+1"`},
		{refType(testPerson), person(`scores={"a":"9223372036854775808"}`), `scores["a"]: expected i64, got "9223372036854775808" (out of range)`},
		{refType(testPerson), person(`photo="xyz"`), `photo: expected link<Blob> (an id), got "xyz"`},
		{refType(testPerson), person(`kind="Alien"`), `kind: expected Kind, got "Alien" (no such variant)`},
		{refType(testPerson), person(`kind="Robot"`), `kind: variant Robot of Kind needs a payload`},
		{refType(testPerson), person(`kind={"Human":null}`), `kind: variant Human of Kind has no payload`},
		{refType(testPerson), person(`kind={"Robot":-1}`), `kind.Robot: expected u32, got -1 (out of range)`},
		{refType(testPerson), person(`kind={"Robot":1,"Human":null}`), `kind: expected Kind: an object with exactly one variant, got 2 keys`},
		{refType(testPerson), person(`kind=3`), `kind: expected Kind (a variant name`},
		{refType(testPerson), `[]`, `expected Person (an object), got an array`},
		{refType(testPerson), person(`name="a"`) + ` {}`, `trailing data`},
		{refType(testPerson), `{"name":`, `bad JSON`},
		{refType(testPerson), `{"name" "x"}`, `bad JSON`},
		{refType(testPerson), "\"\xff\"", `invalid UTF-8`},
		{refType(testPerson), ``, `bad JSON`},
		{&Type{Kind: KindBool}, `1`, `expected bool, got 1`},
		{&Type{Kind: KindString}, `"a\ud800"`, `unpaired surrogate escape \ud800 at byte 2`},
		{&Type{Kind: KindString}, `"\udc00\ud83d"`, `unpaired surrogate escape \udc00 at byte 1`},
		{&Type{Kind: KindString}, `"\ud83d\u0041"`, `unpaired surrogate escape \ud83d at byte 1`},
		{&Type{Kind: KindString}, `"\ud83d`, `unpaired surrogate escape \ud83d at byte 1`},
		{&Type{Kind: KindBool}, `"` + strings.Repeat("é", 30) + `"`, `expected bool, got "` + strings.Repeat("é", 18) + `..."`},
		{&Type{Kind: KindU64}, `"1e3"`, `expected u64, got "1e3"`},
		{&Type{Kind: KindI64}, `"-0"`, `expected i64, got "-0"`},
		{&Type{Kind: KindU64}, `"-1"`, `expected u64, got "-1" (out of range)`},
		{&Type{Kind: KindU32}, `"5"`, `expected u32, got "5"`},
		{&Type{Kind: KindF32}, `1e39`, `expected f32, got 1e39 (out of range)`},
		{&Type{Kind: KindF64}, `"nan"`, `expected f64, got "nan"`},
		{&Type{Kind: KindBytes}, `"AQ"`, `expected bytes (standard base64), got "AQ"`},
		{&Type{Kind: KindBytes}, `"AR=="`, `expected bytes (standard base64)`},
		{&Type{Kind: KindBytes}, `"-_8="`, `expected bytes (standard base64)`},
		{&Type{Kind: KindFixedBytes, N: 2}, `"AQ=="`, `expected bytes[2], got 1 bytes`},
		{&Type{Kind: KindOptional, Elem: &Type{Kind: KindOptional, Elem: u8}}, `3`, `null or a one-element array`},
		{&Type{Kind: KindMap, Key: &Type{Kind: KindU8}, Elem: u8}, `{"01":1}`, `[#0]: expected u8 key, got "01"`},
		{&Type{Kind: KindMap, Key: &Type{Kind: KindI8}, Elem: u8}, `{"-0":1}`, `expected i8 key, got "-0"`},
		{&Type{Kind: KindMap, Key: &Type{Kind: KindBool}, Elem: u8}, `{"yes":1}`, `expected bool key, got "yes"`},
		{&Type{Kind: KindMap, Key: refType(testColor), Elem: u8}, `{"Pink":1}`, `expected Color key, got "Pink"`},
		{&Type{Kind: KindMap, Key: &Type{Kind: KindLink, Elem: &Type{Kind: KindAny}}, Elem: u8},
			`{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa":1,"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA":2}`,
			`duplicate key "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"`},
		{&Type{Kind: KindAny}, `{"schema":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","value":{}}`, `schema: coda: unknown schema`},
		{&Type{Kind: KindAny}, `{"value":{}}`, `any needs "schema" and "value"`},
		{&Type{Kind: KindAny}, `{"schema":"aeaqcaibaeaqcaibaeaqcaibaeaqcaibaeaqcaibaeaqcaibaeaq","value":{"day":"x"}}`, `day: expected u8, got "x"`},
		{&Type{Kind: KindList, Elem: u8}, strings.Repeat("[", 200) + strings.Repeat("]", 200), `nested deeper`},
	}
	for _, tt := range tests {
		_, err := FromJSON(tt.t, []byte(tt.json), testSchemas)
		if err == nil {
			t.Errorf("FromJSON(%s, %s) = nil error, want %q", tt.t, tt.json, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("FromJSON(%s, %s) error:\n got %q\nwant %q", tt.t, tt.json, err, tt.want)
		}
		if !errors.Is(err, errs.Invalid) && !strings.Contains(tt.want, "unknown schema") {
			t.Errorf("FromJSON(%s, %s) error %v is not errs.Invalid", tt.t, tt.json, err)
		}
	}
}

func TestToJSONErrors(t *testing.T) {
	tests := []struct {
		t    *Type
		v    Value
		want string
	}{
		{refType(testDate), Struct(U8(1), U16(2), U32(3)), `month: expected u8, got a u16 value`},
		{refType(testDate), Struct(U8(1), Uint(KindU8, 256), U32(3)), `month: 256 out of range for u8`},
		{refType(testDate), Struct(U8(1)), `expected Date (struct of 3 fields), got a struct value`},
		{refType(testKind), Enum(5), `no variant of Kind has tag 5`},
		{refType(testKind), Enum(1), `variant Robot needs a payload`},
		{refType(testKind), Enum(0, U8(1)), `variant Human has no payload`},
		{refType(testKind), Enum(1, U8(1)), `Robot: expected u32, got a u8 value`},
		{&Type{Kind: KindI8}, Int(KindI8, 200), `200 out of range for i8`},
		{&Type{Kind: KindString}, String("\xff"), `invalid UTF-8`},
		{&Type{Kind: KindF64}, Value{kind: KindF64, bits: 0x7FF8000000000001}, `non-canonical f64 NaN`},
		{&Type{Kind: KindF32}, Value{kind: KindF32, bits: 0x7FC00001}, `non-canonical f32`},
		{&Type{Kind: KindFixedBytes, N: 3}, FixedBytes([]byte{1}), `expected bytes[3], got 1 bytes`},
		{&Type{Kind: KindList, Elem: &Type{Kind: KindU8}}, List(U8(1), Bool(true)), `[1]: expected u8, got a bool value`},
		{&Type{Kind: KindMap, Key: &Type{Kind: KindString}, Elem: &Type{Kind: KindU8}},
			Map(MapEntry{String("a"), U8(1)}, MapEntry{String("a"), U8(2)}), `map keys out of order or repeated at "a"`},
		{&Type{Kind: KindAny}, Any(testID(99), Struct()), `unknown schema`},
		{refType(testDate), Value{}, `got an invalid value`},
	}
	for _, tt := range tests {
		_, err := ToJSON(tt.t, tt.v, testSchemas)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ToJSON(%s, %#v) error = %v, want %q", tt.t, tt.v, err, tt.want)
		}
	}
}

// TestJSONMalformedTypes: types built by hand with missing parts are errors,
// never panics.
func TestJSONMalformedTypes(t *testing.T) {
	types := []*Type{
		nil,
		{Kind: KindList},
		{Kind: KindOptional},
		{Kind: KindMap, Elem: &Type{Kind: KindU8}},
		{Kind: KindMap, Key: &Type{Kind: KindU8}},
		{Kind: KindRef},
		{Kind: KindRec},
		{Kind: KindInvalid},
		{Kind: KindStruct},
	}
	values := []Value{{}, List(U8(1)), Some(U8(1)), Map(MapEntry{U8(1), U8(2)}), Struct(), Enum(0)}
	docs := []string{`null`, `[1]`, `1`, `{"1":2}`, `{}`, `"A"`}
	for _, typ := range types {
		for _, v := range values {
			if _, err := ToJSON(typ, v, nil); err == nil && typ != nil && typ.Kind != KindOptional {
				t.Errorf("ToJSON(%+v, %v) = nil error", typ, v)
			}
		}
		for _, doc := range docs {
			FromJSON(typ, []byte(doc), nil) // must not panic
		}
	}
	if _, err := SchemaToJSON(nil, Struct(), nil); err == nil {
		t.Error("SchemaToJSON(nil schema) = nil error")
	}
	if _, err := SchemaFromJSON(nil, []byte(`{}`), nil); err == nil {
		t.Error("SchemaFromJSON(nil schema) = nil error")
	}
}

// A syntax error names the byte offset where the JSON goes wrong.
func TestFromJSONSyntaxErrorOffset(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"name": x}`, "bad JSON at byte 9 (line 1, column 10): invalid character 'x'"},
		{`[1, 2,, 3]`, "bad JSON at byte 6 (line 1, column 7): invalid character ','"},
		{"[1,\n 2,\n x]", "bad JSON at byte 9 (line 3, column 2): invalid character 'x'"},
		{`[1, 2`, "bad JSON at byte 5 (line 1, column 6): unexpected end of JSON input"},
	} {
		typ := Type{Kind: KindList, Elem: &Type{Kind: KindU8}}
		_, err := FromJSON(&typ, []byte(c.in), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("FromJSON(%s) err = %v, want it to contain %q", c.in, err, c.want)
		}
	}
}
