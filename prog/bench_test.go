package prog

import (
	"strconv"
	"testing"

	"github.com/coalescent/coal/co"
	"github.com/coalescent/coal/coda"
)

// BenchmarkBuild builds the counter program (assembly, ids, tokenised
// source); BenchmarkAssemble is the peer, the assembly alone.
func BenchmarkBuild(b *testing.B) {
	for b.Loop() {
		if _, err := Build("c.co", []byte(counterSrc), co.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAssemble(b *testing.B) {
	for b.Loop() {
		if _, err := co.AssembleProgram("c.co", []byte(counterSrc), co.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode decodes and checks a Program object; BenchmarkDecodeBody
// is the peer, the generic CODA decode of the same object.
func BenchmarkDecode(b *testing.B) {
	p, err := Build("c.co", []byte(counterSrc), co.Options{})
	if err != nil {
		b.Fatal(err)
	}
	obj, _ := p.Encode()
	b.SetBytes(int64(len(obj)))
	for b.Loop() {
		if _, err := Decode(obj); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBody(b *testing.B) {
	p, err := Build("c.co", []byte(counterSrc), co.Options{})
	if err != nil {
		b.Fatal(err)
	}
	obj, _ := p.Encode()
	b.SetBytes(int64(len(obj)))
	for b.Loop() {
		if _, err := coda.DecodeBody(Schema(), obj[coda.IDSize:], coda.DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLink links a program that calls 64 library routines by id,
// each calling a shared helper.
func BenchmarkLink(b *testing.B) {
	src := "^ h LIT8 1 ADD8 ;\n"
	use := "+ .lib"
	for i := 0; i < 64; i++ {
		src += "^ r" + string(rune('a'+i/26)) + string(rune('a'+i%26)) + " LIT8 " + strconv.Itoa(i) + " DRD >h >h ;\n"
		use += " :r" + string(rune('a'+i/26)) + string(rune('a'+i%26))
	}
	use += " ;\n"
	for i := 0; i < 64; i++ {
		use += "<r" + string(rune('a'+i/26)) + string(rune('a'+i%26)) + "\n"
	}
	_, named, err := BuildLibrary("lib.co", []byte(src), co.Options{})
	if err != nil {
		b.Fatal(err)
	}
	libs := map[string]*Lib{}
	lib := NewLibrary()
	for _, n := range named {
		libs[n.Name] = n.Lib
		lib.AddLib(n.Name, n.Lib)
	}
	p, err := Build("use.co", []byte(use), co.Options{Resolver: co.Chain(Resolver(libs), co.StdLib())})
	if err != nil {
		b.Fatal(err)
	}
	if len(p.Imports) != 64 {
		b.Fatalf("%d imports", len(p.Imports))
	}
	for b.Loop() {
		if _, err := Link(p, lib.Lookup); err != nil {
			b.Fatal(err)
		}
	}
}
