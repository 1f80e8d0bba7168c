package dcz

import (
	"encoding/binary"
	"hash/crc32"
)

// FixChecksums rewrites in place the CRC-32C of every section of a .dcz
// file that the bytes frame completely (type, length, body, checksum), so
// that the checksums match whatever the bytes now hold, and returns b.
// Bytes that do not frame a section are left as they are.
//
// It exists for fuzzing and for building hostile test files: a mutated
// file would otherwise almost always stop at the first checksum, never
// reaching the parsers behind it.
func FixChecksums(b []byte) []byte {
	if len(b) < len(Magic)+1 {
		return b
	}
	crc := crc32.Checksum(b[:len(Magic)+1], castagnoli)
	pos := len(Magic) + 1
	for pos < len(b) {
		length, n := binary.Uvarint(b[pos+1:])
		if n <= 0 || length > uint64(len(b)) {
			return b
		}
		end := pos + 1 + n + int(length)
		if end+4 > len(b) {
			return b
		}
		crc = crc32.Update(crc, castagnoli, b[pos:end])
		binary.LittleEndian.PutUint32(b[end:], crc)
		pos, crc = end+4, 0
	}
	return b
}
