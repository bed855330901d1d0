// Command rawtcp is BenchmarkBlob's ceiling: it listens on 127.0.0.1,
// prints its address, accepts one connection and writes N bytes to it
// (a 1 MiB buffer again and again) with nothing in between: no
// encryption, no framing, no hashing. The benchmark builds it and reads
// from another process.
//
//	rawtcp N
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rawtcp:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: rawtcp BYTES")
	}
	n, err := strconv.ParseInt(os.Args[1], 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("bytes %q: not a count", os.Args[1])
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Println(ln.Addr())
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i*7 + i>>8)
	}
	for n > 0 {
		k := int64(len(buf))
		if n < k {
			k = n
		}
		if _, err := c.Write(buf[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}
