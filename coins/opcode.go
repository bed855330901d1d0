package coins

// The opcode map. Every COINS instruction is one byte; for the families that
// come in several widths the low two bits give the operand width
// (00 = 8, 01 = 16, 10 = 32, 11 = 64 bits) and the mnemonic ends in the
// width in bits. docs/coins.md has the full table with stack effects.
//
//	0000_0000  00     HALT
//	0000_01DL  04-07  04 CAL8 05 CAL16 07 RTN (06 unassigned)
//	0000_1CRL  08-0F  jumps: C conditional, R relative, L 8/16-bit operand
//	0001_0DDL  10-17  float arithmetic: ADF SBF MLF DVF, L = f32/f64
//	0001_10DL  18-1B  float compare: GRF LSF
//	0001_11DL  1C-1F  EQF32 EQF64, FTF32 (f64->f32) FTF64 (f32->f64)
//	001x_xxxx  20-3F  reserved for Co source tokens (never instructions)
//	010D_DDLL  40-5F  AND OR XOR NOT BSL BSR NEG MOD
//	011D_DDLL  60-7F  ADD SUB MUL DIV GRT LST EQU NEQ
//	1000_xxxx  80-8F  80 DMR, 81 ITF32, 82 FTI32, 83 DVV, 84-86 DMW8-32,
//	                  88 DMP, 89 ITF64, 8A FTI64, 8C-8F SWP
//	1001_DDLL  90-9F  DVR DVW DVP ROT
//	1010_DDLL  A0-AF  signed: SDV SMD SGT SLT
//	1011_DDLL  B0-BF  LIT ADR STR LOD
//	11FF_TTLL  C0-FB  stack copy from FF to TT (D S R H); FF == TT duplicates
//	1111_11xx  FC-FF  DRD DRS DRR (drop one byte), FF NOP

// An Opcode is one COINS instruction byte. Bytes without an instruction are
// not instructions: executing one is a bad-opcode fault.
type Opcode byte

// The instructions, by opcode.
const (
	HALT Opcode = 0x00

	CAL8  Opcode = 0x04
	CAL16 Opcode = 0x05
	RTN   Opcode = 0x07

	JMP8  Opcode = 0x08
	JMP16 Opcode = 0x09
	JPR8  Opcode = 0x0A
	JPR16 Opcode = 0x0B
	JPC8  Opcode = 0x0C
	JPC16 Opcode = 0x0D
	JCR8  Opcode = 0x0E
	JCR16 Opcode = 0x0F

	ADF32 Opcode = 0x10
	ADF64 Opcode = 0x11
	SBF32 Opcode = 0x12
	SBF64 Opcode = 0x13
	MLF32 Opcode = 0x14
	MLF64 Opcode = 0x15
	DVF32 Opcode = 0x16
	DVF64 Opcode = 0x17
	GRF32 Opcode = 0x18
	GRF64 Opcode = 0x19
	LSF32 Opcode = 0x1A
	LSF64 Opcode = 0x1B
	EQF32 Opcode = 0x1C
	EQF64 Opcode = 0x1D
	FTF32 Opcode = 0x1E // f64 -> f32
	FTF64 Opcode = 0x1F // f32 -> f64

	AND8  Opcode = 0x40
	AND16 Opcode = 0x41
	AND32 Opcode = 0x42
	AND64 Opcode = 0x43
	OR8   Opcode = 0x44
	OR16  Opcode = 0x45
	OR32  Opcode = 0x46
	OR64  Opcode = 0x47
	XOR8  Opcode = 0x48
	XOR16 Opcode = 0x49
	XOR32 Opcode = 0x4A
	XOR64 Opcode = 0x4B
	NOT8  Opcode = 0x4C
	NOT16 Opcode = 0x4D
	NOT32 Opcode = 0x4E
	NOT64 Opcode = 0x4F
	BSL8  Opcode = 0x50
	BSL16 Opcode = 0x51
	BSL32 Opcode = 0x52
	BSL64 Opcode = 0x53
	BSR8  Opcode = 0x54
	BSR16 Opcode = 0x55
	BSR32 Opcode = 0x56
	BSR64 Opcode = 0x57
	NEG8  Opcode = 0x58
	NEG16 Opcode = 0x59
	NEG32 Opcode = 0x5A
	NEG64 Opcode = 0x5B
	MOD8  Opcode = 0x5C
	MOD16 Opcode = 0x5D
	MOD32 Opcode = 0x5E
	MOD64 Opcode = 0x5F

	ADD8  Opcode = 0x60
	ADD16 Opcode = 0x61
	ADD32 Opcode = 0x62
	ADD64 Opcode = 0x63
	SUB8  Opcode = 0x64
	SUB16 Opcode = 0x65
	SUB32 Opcode = 0x66
	SUB64 Opcode = 0x67
	MUL8  Opcode = 0x68
	MUL16 Opcode = 0x69
	MUL32 Opcode = 0x6A
	MUL64 Opcode = 0x6B
	DIV8  Opcode = 0x6C
	DIV16 Opcode = 0x6D
	DIV32 Opcode = 0x6E
	DIV64 Opcode = 0x6F
	GRT8  Opcode = 0x70
	GRT16 Opcode = 0x71
	GRT32 Opcode = 0x72
	GRT64 Opcode = 0x73
	LST8  Opcode = 0x74
	LST16 Opcode = 0x75
	LST32 Opcode = 0x76
	LST64 Opcode = 0x77
	EQU8  Opcode = 0x78
	EQU16 Opcode = 0x79
	EQU32 Opcode = 0x7A
	EQU64 Opcode = 0x7B
	NEQ8  Opcode = 0x7C
	NEQ16 Opcode = 0x7D
	NEQ32 Opcode = 0x7E
	NEQ64 Opcode = 0x7F

	DMR   Opcode = 0x80
	ITF32 Opcode = 0x81 // i32 -> f32
	FTI32 Opcode = 0x82 // f32 -> i32
	DVV   Opcode = 0x83
	DMW8  Opcode = 0x84
	DMW16 Opcode = 0x85
	DMW32 Opcode = 0x86
	DMP   Opcode = 0x88
	ITF64 Opcode = 0x89 // i64 -> f64
	FTI64 Opcode = 0x8A // f64 -> i64
	SWP8  Opcode = 0x8C
	SWP16 Opcode = 0x8D
	SWP32 Opcode = 0x8E
	SWP64 Opcode = 0x8F

	DVR8  Opcode = 0x90
	DVR16 Opcode = 0x91
	DVR32 Opcode = 0x92
	DVR64 Opcode = 0x93
	DVW8  Opcode = 0x94
	DVW16 Opcode = 0x95
	DVW32 Opcode = 0x96
	DVW64 Opcode = 0x97
	DVP8  Opcode = 0x98
	DVP16 Opcode = 0x99
	DVP32 Opcode = 0x9A
	DVP64 Opcode = 0x9B
	ROT8  Opcode = 0x9C
	ROT16 Opcode = 0x9D
	ROT32 Opcode = 0x9E
	ROT64 Opcode = 0x9F

	SDV8  Opcode = 0xA0
	SDV16 Opcode = 0xA1
	SDV32 Opcode = 0xA2
	SDV64 Opcode = 0xA3
	SMD8  Opcode = 0xA4
	SMD16 Opcode = 0xA5
	SMD32 Opcode = 0xA6
	SMD64 Opcode = 0xA7
	SGT8  Opcode = 0xA8
	SGT16 Opcode = 0xA9
	SGT32 Opcode = 0xAA
	SGT64 Opcode = 0xAB
	SLT8  Opcode = 0xAC
	SLT16 Opcode = 0xAD
	SLT32 Opcode = 0xAE
	SLT64 Opcode = 0xAF

	LIT8  Opcode = 0xB0
	LIT16 Opcode = 0xB1
	LIT32 Opcode = 0xB2
	LIT64 Opcode = 0xB3
	ADR8  Opcode = 0xB4
	ADR16 Opcode = 0xB5
	ADR32 Opcode = 0xB6
	ADR64 Opcode = 0xB7
	STR8  Opcode = 0xB8
	STR16 Opcode = 0xB9
	STR32 Opcode = 0xBA
	STR64 Opcode = 0xBB
	LOD8  Opcode = 0xBC
	LOD16 Opcode = 0xBD
	LOD32 Opcode = 0xBE
	LOD64 Opcode = 0xBF

	DPD8  Opcode = 0xC0
	DPD16 Opcode = 0xC1
	DPD32 Opcode = 0xC2
	DPD64 Opcode = 0xC3
	CDS8  Opcode = 0xC4
	CDS16 Opcode = 0xC5
	CDS32 Opcode = 0xC6
	CDS64 Opcode = 0xC7
	CDR8  Opcode = 0xC8
	CDR16 Opcode = 0xC9
	CDR32 Opcode = 0xCA
	CDR64 Opcode = 0xCB
	CDH8  Opcode = 0xCC
	CDH16 Opcode = 0xCD
	CDH32 Opcode = 0xCE
	CDH64 Opcode = 0xCF
	CSD8  Opcode = 0xD0
	CSD16 Opcode = 0xD1
	CSD32 Opcode = 0xD2
	CSD64 Opcode = 0xD3
	DPS8  Opcode = 0xD4
	DPS16 Opcode = 0xD5
	DPS32 Opcode = 0xD6
	DPS64 Opcode = 0xD7
	CSR8  Opcode = 0xD8
	CSR16 Opcode = 0xD9
	CSR32 Opcode = 0xDA
	CSR64 Opcode = 0xDB
	CSH8  Opcode = 0xDC
	CSH16 Opcode = 0xDD
	CSH32 Opcode = 0xDE
	CSH64 Opcode = 0xDF
	CRD8  Opcode = 0xE0
	CRD16 Opcode = 0xE1
	CRD32 Opcode = 0xE2
	CRD64 Opcode = 0xE3
	CRS8  Opcode = 0xE4
	CRS16 Opcode = 0xE5
	CRS32 Opcode = 0xE6
	CRS64 Opcode = 0xE7
	DPR8  Opcode = 0xE8
	DPR16 Opcode = 0xE9
	DPR32 Opcode = 0xEA
	DPR64 Opcode = 0xEB
	CRH8  Opcode = 0xEC
	CRH16 Opcode = 0xED
	CRH32 Opcode = 0xEE
	CRH64 Opcode = 0xEF
	CHD8  Opcode = 0xF0
	CHD16 Opcode = 0xF1
	CHD32 Opcode = 0xF2
	CHD64 Opcode = 0xF3
	CHS8  Opcode = 0xF4
	CHS16 Opcode = 0xF5
	CHS32 Opcode = 0xF6
	CHS64 Opcode = 0xF7
	CHR8  Opcode = 0xF8
	CHR16 Opcode = 0xF9
	CHR32 Opcode = 0xFA
	CHR64 Opcode = 0xFB
	DRD   Opcode = 0xFC
	DRS   Opcode = 0xFD
	DRR   Opcode = 0xFE
	NOP   Opcode = 0xFF
)

type opInfo struct {
	name   string
	effect string
}

// ops is the opcode table; an empty name marks an unassigned byte.
var ops = buildOps()

var byName = func() map[string]Opcode {
	m := make(map[string]Opcode, 256)
	for i := range ops {
		if ops[i].name != "" {
			m[ops[i].name] = Opcode(i)
		}
	}
	return m
}()

var widthSuffix = [4]string{"8", "16", "32", "64"}

func buildOps() [256]opInfo {
	var t [256]opInfo
	set := func(op Opcode, name, effect string) { t[op] = opInfo{name, effect} }
	// family sets the four widths of a family starting at base.
	family := func(base Opcode, stem, effect string) {
		for i := range 4 {
			set(base+Opcode(i), stem+widthSuffix[i], effect)
		}
	}

	set(HALT, "HALT", "( -- )")
	set(CAL8, "CAL8", "( addr -- ) R: ( -- ret )")
	set(CAL16, "CAL16", "( addr -- ) R: ( -- ret )")
	set(RTN, "RTN", "R: ( ret -- )")
	set(JMP8, "JMP8", "( addr -- )")
	set(JMP16, "JMP16", "( addr -- )")
	set(JPR8, "JPR8", "( off -- )")
	set(JPR16, "JPR16", "( off -- )")
	set(JPC8, "JPC8", "( flag addr -- )")
	set(JPC16, "JPC16", "( flag addr -- )")
	set(JCR8, "JCR8", "( flag off -- )")
	set(JCR16, "JCR16", "( flag off -- )")

	for i, l := range []string{"32", "64"} {
		o := Opcode(i)
		set(ADF32+o, "ADF"+l, "( a b -- a+b )")
		set(SBF32+o, "SBF"+l, "( a b -- a-b )")
		set(MLF32+o, "MLF"+l, "( a b -- a*b )")
		set(DVF32+o, "DVF"+l, "( a b -- a/b )")
		set(GRF32+o, "GRF"+l, "( a b -- a>b )")
		set(LSF32+o, "LSF"+l, "( a b -- a<b )")
		set(EQF32+o, "EQF"+l, "( a b -- a=b )")
		set(ITF32+8*o, "ITF"+l, "( i -- f )")
		set(FTI32+8*o, "FTI"+l, "( f -- i )")
	}
	set(FTF32, "FTF32", "( f64 -- f32 )")
	set(FTF64, "FTF64", "( f32 -- f64 )")

	family(AND8, "AND", "( a b -- a&b )")
	family(OR8, "OR", "( a b -- a|b )")
	family(XOR8, "XOR", "( a b -- a^b )")
	family(NOT8, "NOT", "( a -- ~a )")
	family(BSL8, "BSL", "( a n -- a<<n )")
	family(BSR8, "BSR", "( a n -- a>>n )")
	family(NEG8, "NEG", "( a -- -a )")
	family(MOD8, "MOD", "( a b -- a%b )")
	family(ADD8, "ADD", "( a b -- a+b )")
	family(SUB8, "SUB", "( a b -- a-b )")
	family(MUL8, "MUL", "( a b -- a*b )")
	family(DIV8, "DIV", "( a b -- a/b )")
	family(GRT8, "GRT", "( a b -- a>b )")
	family(LST8, "LST", "( a b -- a<b )")
	family(EQU8, "EQU", "( a b -- a=b )")
	family(NEQ8, "NEQ", "( a b -- a!=b )")

	set(DMR, "DMR", "( ctrl -- len addr )")
	set(DVV, "DVV", "( vector slot -- )")
	for i := range 3 {
		set(DMW8+Opcode(i), "DMW"+widthSuffix[i], "( len addr flags ctrl -- )")
	}
	set(DMP, "DMP", "( mask ctrl -- flag )")
	family(SWP8, "SWP", "( a b -- b a )")

	family(DVR8, "DVR", "( port slot -- v )")
	family(DVW8, "DVW", "( v port flags slot -- )")
	family(DVP8, "DVP", "( addr slot -- )")
	family(ROT8, "ROT", "( a b c -- b c a )")

	family(SDV8, "SDV", "( a b -- a/b )")
	family(SMD8, "SMD", "( a b -- a%b )")
	family(SGT8, "SGT", "( a b -- a>b )")
	family(SLT8, "SLT", "( a b -- a<b )")

	family(LIT8, "LIT", "( -- v )")
	family(ADR8, "ADR", "( addr -- )")
	family(STR8, "STR", "( v -- )")
	family(LOD8, "LOD", "( -- v )")

	// The stack-copy matrix: C<from><to>, DP<stack> on the diagonal.
	stacks := "DSRH"
	for from := range 4 {
		for to := range 4 {
			if from == 3 && to == 3 {
				continue // FC-FF: drops and NOP
			}
			base := Opcode(0xC0 | from<<4 | to<<2)
			f, g := stacks[from:from+1], stacks[to:to+1]
			var stem, effect string
			switch {
			case from == to:
				stem = "DP" + f
				effect = stackEffect(f, "( a -- a a )")
			case from == 3:
				stem = "CH" + g
				effect = "H: ( a -- a ) " + stackEffect(g, "( -- a )")
			case to == 3:
				stem = "C" + f + "H"
				effect = stackEffect(f, "( a -- a )") + " H: ( x -- a )"
			default:
				stem = "C" + f + g
				effect = stackEffect(f, "( a -- a )") + " " + stackEffect(g, "( -- a )")
			}
			family(base, stem, effect)
		}
	}
	set(DRD, "DRD", "( b -- )")
	set(DRS, "DRS", "S: ( b -- )")
	set(DRR, "DRR", "R: ( b -- )")
	set(NOP, "NOP", "( -- )")
	return t
}

// stackEffect prefixes effect with the stack's name unless it is the data
// stack, the one Forth notation means by default.
func stackEffect(stack, effect string) string {
	if stack == "D" {
		return effect
	}
	return stack + ": " + effect
}

// Mnemonic returns the instruction's upper-case mnemonic, or "" if the byte
// is not an instruction.
func (op Opcode) Mnemonic() string { return ops[op].name }

// Valid reports whether op is an assigned instruction.
func (op Opcode) Valid() bool { return ops[op].name != "" }

// Effect returns the instruction's stack effect in Forth notation, e.g.
// "( a b -- a-b )"; effects on the swap, return and hold stacks are prefixed
// with "S:", "R:" and "H:". It returns "" for an unassigned byte.
func (op Opcode) Effect() string { return ops[op].effect }

// ImmLen returns how many bytes of immediate operand follow the opcode in
// instruction RAM: 1, 2, 4 or 8 for LIT8..LIT64, 0 for every other byte.
func (op Opcode) ImmLen() int {
	if op >= LIT8 && op <= LIT64 {
		return 1 << (op & 3)
	}
	return 0
}

// String returns the mnemonic, or "0xNN" for an unassigned byte.
func (op Opcode) String() string {
	if n := ops[op].name; n != "" {
		return n
	}
	const hex = "0123456789abcdef"
	return "0x" + string([]byte{hex[op>>4], hex[op&15]})
}

// OpcodeByMnemonic returns the instruction with the given mnemonic. Names are
// case-sensitive upper case, e.g. "SUB8", "RTN", "DRD".
func OpcodeByMnemonic(name string) (Opcode, bool) {
	op, ok := byName[name]
	return op, ok
}
