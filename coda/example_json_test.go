package coda_test

import (
	"bytes"
	"fmt"
	"io"

	"github.com/coalescent/coal/coda"
)

func ExampleSchemaFromJSON() {
	reg := coda.NewRegistry()
	schemas, err := reg.Compile("date.coda", []byte(`schema Date { day: u8  month: u8  year: u32 }`))
	if err != nil {
		fmt.Println(err)
		return
	}
	date := schemas[0]

	v, err := coda.SchemaFromJSON(date, []byte(`{"year": 1815, "month": 12, "day": 10}`), reg)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := coda.AppendBody(nil, date, v)
	text, _ := coda.SchemaToJSON(date, v, reg)
	fmt.Printf("%x\n%s\n", body, text)

	_, err = coda.SchemaFromJSON(date, []byte(`{"day": "x", "month": 12, "year": 1815}`), reg)
	fmt.Println(err)
	// Output:
	// 0a0c17070000
	// {"day":10,"month":12,"year":1815}
	// day: expected u8, got "x"
}

func ExampleWireWriter() {
	reg := coda.NewRegistry()
	schemas, _ := reg.Compile("point.coda", []byte(`schema Point { x: i32  y: i32 }`))
	point := schemas[0]

	var stream bytes.Buffer
	w := coda.NewWireWriter(&stream, []coda.ID{point.ID})
	for i := range 3 {
		w.Write(point, coda.Struct(coda.I32(int32(i)), coda.I32(int32(-i))))
	}
	w.Close()

	r := coda.NewWireReader(&stream, coda.DecodeOptions{Resolver: reg})
	for {
		s, v, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		text, _ := coda.SchemaToJSON(s, v, reg)
		fmt.Printf("%s %s\n", s.Name, text)
	}
	// Output:
	// Point {"x":0,"y":0}
	// Point {"x":1,"y":-1}
	// Point {"x":2,"y":-2}
}
