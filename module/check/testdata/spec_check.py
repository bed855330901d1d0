# An independent implementation of SPEC.md §1-2 for the golden schema
#   schema P { x: f64  n: i32  s: string  l: list<u8>  o: optional<bool> }
# without bounds: `python3 spec_check.py` prints the bodies of seeds 0-3,
# which must equal goldenP in gen_test.go (checked when written).
import math, struct
M64=(1<<64)-1
MUL=(2549297995355413924<<64)|4865540595714422341
INC=(6364136223846793005<<64)|1442695040888963407
class R:
    def __init__(s,seed): s.st=(seed<<64)
    def draw(s):
        s.st=(s.st*MUL+INC)&((1<<128)-1)
        h,l=s.st>>64,s.st&M64
        h^=h>>32; h=(h*0xda942042e4dd58b5)&M64; h^=h>>48; h=(h*(l|1))&M64
        return h
    def below(s,n):
        x=s.draw()
        return x if n==0 else (x*n)>>64
    def upTo(s,k): return s.below((k+1)&M64)
    def unit(s): return (s.draw()>>11)/2**53
def uvar(x):
    out=b''
    while x>=0x80: out+=bytes([x&0x7f|0x80]); x>>=7
    return out+bytes([x])
specials=[' ','0','9','A','Z','-','"','\\','\n','\0','\x7f','é','ß','中','✓','😀']
def f64(r,lo=-1000.0,hi=1000.0):
    def uniform():
        u=r.unit(); return min(max(lo*(1-u)+hi*u,lo),hi)
    c=r.below(8)
    if c==0: x=lo
    elif c==1: x=hi
    elif c in (2,3,4,5):
        a,b=(math.ceil(max(lo,-10)),math.floor(min(hi,10))) if c<=3 else (math.ceil(lo),math.floor(hi))
        x = a+r.upTo(b-a) if a<=b and b-a<2**53 else uniform()
        x=float(x)
    elif c==6:
        u=uniform(); x=round_half_away(u*100)/100
        if x<lo or x>hi: x=u
    else: x=uniform()
    if x==0: x=0.0
    return struct.pack('<d',x)
def round_half_away(v): return math.floor(v+0.5) if v>=0 else -math.floor(-v+0.5)
def integer(r,a,b):
    c=r.below(8)
    if c==0: return a
    if c==1: return b
    if c<=4:
        sa,sb=max(a,-10),min(b,10)
        if sa<=sb: return sa+r.upTo(sb-sa)
    return a+r.upTo(b-a)
def gen(seed):
    r=R(seed); out=b''
    out+=f64(r)
    out+=struct.pack('<i',integer(r,-1000,1000))
    n=r.upTo(8); s=''
    for _ in range(n):
        s+= chr(ord('a')+r.below(26)) if r.below(4)<3 else specials[r.below(16)]
    sb=s.encode(); out+=uvar(len(sb))+sb
    n=r.upTo(8); out+=uvar(n)
    for _ in range(n): out+=bytes([integer(r,0,255)])
    if r.below(2)==0: out+=b'\x00'
    else: out+=b'\x01'+(b'\xff' if r.below(2)==1 else b'\x00')
    return out.hex()
for seed in range(4): print(gen(seed))
