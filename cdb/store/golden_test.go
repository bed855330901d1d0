package store

// Golden values of the chunking format. They must never change: chunk ids
// travel on the wire and are shared between stores. docs/store.md repeats
// them for other implementations.

// gearGolden is gear[0], gear[1] and gear[255].
var gearGolden = [3]uint64{0xa76fe50e038bdd91, 0x09ac22ceedb3b0b1, 0xcc83c4740d4cdef1}

// cutGolden is the chunk lengths of the first 2 MiB of the BLAKE3 extendable
// output of "coal/store/cdc-test".
var cutGolden = []int{
	55823, 76204, 73764, 75546, 82776, 86963, 65957, 123902, 93189, 94241,
	71992, 19467, 111200, 73217, 87423, 67172, 74856, 76765, 110037, 74849,
	40155, 25582, 72023, 23632, 66300, 20628, 70419, 79563, 88047, 15460,
}
