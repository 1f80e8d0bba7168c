package huffman

// Two-symbol decoding. When every codeword has at most 12 bits and symbols
// fit in 12 bits, a second table maps the next 12 input bits to up to two
// symbols whose codewords both lie within those bits: for 6-bit codebook
// indices (about 4.5 bits a codeword) most lookups yield two symbols, which
// halves the length of the chain of dependent lookups.
//
// Entry layout: bits 0-3 the bits consumed (1..12), bit 4 set when the
// entry holds two symbols, bits 8-19 the first symbol, 20-31 the second.

// doubleMin is the block size from which building the 4096-entry
// two-symbol table pays for itself.
const doubleMin = 2048

// buildDouble derives the two-symbol table from the one-symbol table t.
// (Walking first codewords and filling their entries with a stride is
// slower: this loop reads and writes in order, and its branch follows
// runs of entries that share the first codeword.)
func buildDouble(t2, t *[1 << fastBits]uint32) {
	for j := range t {
		e := t[j]
		l1 := e & 0xff
		r := t[j>>l1] // the next codeword, read from the remaining bits
		l2 := r & 0xff
		if l1+l2 <= fastBits {
			t2[j] = (l1 + l2) | 1<<4 | (e>>8)<<8 | (r>>8)<<20
		} else {
			t2[j] = l1 | (e>>8)<<8
		}
	}
}

// decode1x12d is decode1x12 with the two-symbol table: four lookups per
// 64-bit load yield 4 to 8 symbols.
func decode1x12d[S Symbol](dst []S, src []byte, st *stream, t *[1 << fastBits]uint32) int {
	const mask = 1<<fastBits - 1
	bit := uint(st.bit)
	end := st.end - 8
	i := 0
	for i+8 <= len(dst) && int(bit>>3) <= end {
		d := (*[8]S)(dst[i : i+8])
		v := load64(src, int(bit>>3)) >> (bit & 7)
		e0 := t[v&mask]
		v >>= e0 & 15
		e1 := t[v&mask]
		v >>= e1 & 15
		e2 := t[v&mask]
		v >>= e2 & 15
		e3 := t[v&mask]
		bit += uint(e0&15 + e1&15 + e2&15 + e3&15)
		k := uint(0)
		d[k&7], d[(k+1)&7] = S(e0>>8&0xfff), S(e0>>20)
		k += uint(e0>>4&1) + 1
		d[k&7], d[(k+1)&7] = S(e1>>8&0xfff), S(e1>>20)
		k += uint(e1>>4&1) + 1
		d[k&7], d[(k+1)&7] = S(e2>>8&0xfff), S(e2>>20)
		k += uint(e2>>4&1) + 1
		d[k&7], d[(k+1)&7] = S(e3>>8&0xfff), S(e3>>20)
		k += uint(e3>>4&1) + 1
		i += int(k)
	}
	st.bit = int(bit)
	return i
}

// decode4x12d runs four streams in lockstep with the two-symbol table. It
// returns how many symbols each stream decoded.
func decode4x12d[S Symbol](dst []S, parts *[5]int, src []byte, st *[4]stream, t *[1 << fastBits]uint32) [4]int {
	const mask = 1<<fastBits - 1
	b0, b1, b2, b3 := uint(st[0].bit), uint(st[1].bit), uint(st[2].bit), uint(st[3].bit)
	i0, i1, i2, i3 := parts[0], parts[1], parts[2], parts[3]
	end := len(src) - 8
	for i0+8 <= parts[1] && i1+8 <= parts[2] && i2+8 <= parts[3] && i3+8 <= parts[4] &&
		int(max(b0, b1, b2, b3)>>3) <= end {
		d0 := (*[8]S)(dst[i0 : i0+8])
		d1 := (*[8]S)(dst[i1 : i1+8])
		d2 := (*[8]S)(dst[i2 : i2+8])
		d3 := (*[8]S)(dst[i3 : i3+8])
		v0 := load64(src, int(b0>>3)) >> (b0 & 7)
		v1 := load64(src, int(b1>>3)) >> (b1 & 7)
		v2 := load64(src, int(b2>>3)) >> (b2 & 7)
		v3 := load64(src, int(b3>>3)) >> (b3 & 7)
		var k0, k1, k2, k3 uint
		e0, e1, e2, e3 := t[v0&mask], t[v1&mask], t[v2&mask], t[v3&mask]
		v0, v1, v2, v3 = v0>>(e0&15), v1>>(e1&15), v2>>(e2&15), v3>>(e3&15)
		b0, b1, b2, b3 = b0+uint(e0&15), b1+uint(e1&15), b2+uint(e2&15), b3+uint(e3&15)
		d0[k0&7], d0[(k0+1)&7] = S(e0>>8&0xfff), S(e0>>20)
		d1[k1&7], d1[(k1+1)&7] = S(e1>>8&0xfff), S(e1>>20)
		d2[k2&7], d2[(k2+1)&7] = S(e2>>8&0xfff), S(e2>>20)
		d3[k3&7], d3[(k3+1)&7] = S(e3>>8&0xfff), S(e3>>20)
		k0, k1, k2, k3 = k0+uint(e0>>4&1)+1, k1+uint(e1>>4&1)+1, k2+uint(e2>>4&1)+1, k3+uint(e3>>4&1)+1
		e0, e1, e2, e3 = t[v0&mask], t[v1&mask], t[v2&mask], t[v3&mask]
		v0, v1, v2, v3 = v0>>(e0&15), v1>>(e1&15), v2>>(e2&15), v3>>(e3&15)
		b0, b1, b2, b3 = b0+uint(e0&15), b1+uint(e1&15), b2+uint(e2&15), b3+uint(e3&15)
		d0[k0&7], d0[(k0+1)&7] = S(e0>>8&0xfff), S(e0>>20)
		d1[k1&7], d1[(k1+1)&7] = S(e1>>8&0xfff), S(e1>>20)
		d2[k2&7], d2[(k2+1)&7] = S(e2>>8&0xfff), S(e2>>20)
		d3[k3&7], d3[(k3+1)&7] = S(e3>>8&0xfff), S(e3>>20)
		k0, k1, k2, k3 = k0+uint(e0>>4&1)+1, k1+uint(e1>>4&1)+1, k2+uint(e2>>4&1)+1, k3+uint(e3>>4&1)+1
		e0, e1, e2, e3 = t[v0&mask], t[v1&mask], t[v2&mask], t[v3&mask]
		v0, v1, v2, v3 = v0>>(e0&15), v1>>(e1&15), v2>>(e2&15), v3>>(e3&15)
		b0, b1, b2, b3 = b0+uint(e0&15), b1+uint(e1&15), b2+uint(e2&15), b3+uint(e3&15)
		d0[k0&7], d0[(k0+1)&7] = S(e0>>8&0xfff), S(e0>>20)
		d1[k1&7], d1[(k1+1)&7] = S(e1>>8&0xfff), S(e1>>20)
		d2[k2&7], d2[(k2+1)&7] = S(e2>>8&0xfff), S(e2>>20)
		d3[k3&7], d3[(k3+1)&7] = S(e3>>8&0xfff), S(e3>>20)
		k0, k1, k2, k3 = k0+uint(e0>>4&1)+1, k1+uint(e1>>4&1)+1, k2+uint(e2>>4&1)+1, k3+uint(e3>>4&1)+1
		e0, e1, e2, e3 = t[v0&mask], t[v1&mask], t[v2&mask], t[v3&mask]
		v0, v1, v2, v3 = v0>>(e0&15), v1>>(e1&15), v2>>(e2&15), v3>>(e3&15)
		b0, b1, b2, b3 = b0+uint(e0&15), b1+uint(e1&15), b2+uint(e2&15), b3+uint(e3&15)
		d0[k0&7], d0[(k0+1)&7] = S(e0>>8&0xfff), S(e0>>20)
		d1[k1&7], d1[(k1+1)&7] = S(e1>>8&0xfff), S(e1>>20)
		d2[k2&7], d2[(k2+1)&7] = S(e2>>8&0xfff), S(e2>>20)
		d3[k3&7], d3[(k3+1)&7] = S(e3>>8&0xfff), S(e3>>20)
		k0, k1, k2, k3 = k0+uint(e0>>4&1)+1, k1+uint(e1>>4&1)+1, k2+uint(e2>>4&1)+1, k3+uint(e3>>4&1)+1
		i0, i1, i2, i3 = i0+int(k0), i1+int(k1), i2+int(k2), i3+int(k3)
	}
	st[0].bit, st[1].bit, st[2].bit, st[3].bit = int(b0), int(b1), int(b2), int(b3)
	return [4]int{i0 - parts[0], i1 - parts[1], i2 - parts[2], i3 - parts[3]}
}

// decode2x12d runs two streams, a and b, in lockstep with the two-symbol
// table: two independent lookup chains, few enough live values to stay in
// registers. dst[ia:ea] and dst[ib:eb] are the parts left to decode; it
// returns how many symbols of each it decoded.
func decode2x12d[S Symbol](dst []S, ia, ea, ib, eb int, src []byte, sa, sb *stream, t *[1 << fastBits]uint32) (int, int) {
	const mask = 1<<fastBits - 1
	ba, bb := uint(sa.bit), uint(sb.bit)
	a0, b0 := ia, ib
	end := len(src) - 8
	for ia+8 <= ea && ib+8 <= eb && int(max(ba, bb)>>3) <= end {
		da := (*[8]S)(dst[ia : ia+8])
		db := (*[8]S)(dst[ib : ib+8])
		va := load64(src, int(ba>>3)) >> (ba & 7)
		vb := load64(src, int(bb>>3)) >> (bb & 7)
		var ka, kb uint
		xa, xb := t[va&mask], t[vb&mask]
		va, vb = va>>(xa&15), vb>>(xb&15)
		ba, bb = ba+uint(xa&15), bb+uint(xb&15)
		da[ka&7], da[(ka+1)&7] = S(xa>>8&0xfff), S(xa>>20)
		db[kb&7], db[(kb+1)&7] = S(xb>>8&0xfff), S(xb>>20)
		ka, kb = ka+uint(xa>>4&1)+1, kb+uint(xb>>4&1)+1
		xa, xb = t[va&mask], t[vb&mask]
		va, vb = va>>(xa&15), vb>>(xb&15)
		ba, bb = ba+uint(xa&15), bb+uint(xb&15)
		da[ka&7], da[(ka+1)&7] = S(xa>>8&0xfff), S(xa>>20)
		db[kb&7], db[(kb+1)&7] = S(xb>>8&0xfff), S(xb>>20)
		ka, kb = ka+uint(xa>>4&1)+1, kb+uint(xb>>4&1)+1
		xa, xb = t[va&mask], t[vb&mask]
		va, vb = va>>(xa&15), vb>>(xb&15)
		ba, bb = ba+uint(xa&15), bb+uint(xb&15)
		da[ka&7], da[(ka+1)&7] = S(xa>>8&0xfff), S(xa>>20)
		db[kb&7], db[(kb+1)&7] = S(xb>>8&0xfff), S(xb>>20)
		ka, kb = ka+uint(xa>>4&1)+1, kb+uint(xb>>4&1)+1
		xa, xb = t[va&mask], t[vb&mask]
		va, vb = va>>(xa&15), vb>>(xb&15)
		ba, bb = ba+uint(xa&15), bb+uint(xb&15)
		da[ka&7], da[(ka+1)&7] = S(xa>>8&0xfff), S(xa>>20)
		db[kb&7], db[(kb+1)&7] = S(xb>>8&0xfff), S(xb>>20)
		ka, kb = ka+uint(xa>>4&1)+1, kb+uint(xb>>4&1)+1
		ia, ib = ia+int(ka), ib+int(kb)
	}
	sa.bit, sb.bit = int(ba), int(bb)
	return ia - a0, ib - b0
}
