package weights

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// scanPickle walks a pickle's opcodes without executing any of them, before the real
// unpickler sees the stream. It enforces two things the unpickler alone would not:
//
//   - every length-prefixed argument fits in the bytes that remain, so a forged length cannot
//     make the unpickler allocate gigabytes before it notices the stream is short;
//   - every GLOBAL / INST names an allowed global (see allowedGlobal). The unpickler's own
//     class lookup enforces the same list for STACK_GLOBAL, whose names live on the stack.
//
// It returns a *UnsafePickleError for a forbidden global and a *HeaderError for a malformed
// stream.
func scanPickle(data []byte, file string) error {
	bad := func(pos int, format string, args ...any) error {
		return &HeaderError{File: file, Reason: fmt.Sprintf("pickle byte %d: ", pos) + fmt.Sprintf(format, args...)}
	}
	pos := 0
	need := func(n uint64) bool { return uint64(len(data)-pos) >= n }
	line := func() (string, bool) {
		i := bytes.IndexByte(data[pos:], '\n')
		if i < 0 {
			return "", false
		}
		s := string(data[pos : pos+i])
		pos += i + 1
		return s, true
	}
	for pos < len(data) {
		at := pos
		op := data[pos]
		pos++
		switch op {
		case '.': // STOP
			return nil
		case '(', '0', '1', '2', 'N', 'Q', 'R', 'a', 'b', 'd', '}', 'e', 'l', ']', 'o', 's', 't', ')', 'u',
			0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98:
			// no argument
		case 'K', 'h', 'q', 0x80, 0x82: // one-byte argument
			if !need(1) {
				return bad(at, "opcode 0x%02x truncated", op)
			}
			pos++
		case 'M', 0x83: // two bytes
			if !need(2) {
				return bad(at, "opcode 0x%02x truncated", op)
			}
			pos += 2
		case 'J', 'j', 'r', 0x84: // four bytes
			if !need(4) {
				return bad(at, "opcode 0x%02x truncated", op)
			}
			pos += 4
		case 'G': // BINFLOAT
			if !need(8) {
				return bad(at, "BINFLOAT truncated")
			}
			pos += 8
		case 0x95: // FRAME: 8-byte size of the frame that follows inline
			if !need(8) {
				return bad(at, "FRAME truncated")
			}
			n := binary.LittleEndian.Uint64(data[pos:])
			pos += 8
			if !need(n) {
				return bad(at, "FRAME of %d bytes exceeds the %d bytes left", n, len(data)-pos)
			}
		case 'F', 'I', 'L', 'P', 'S', 'V', 'g', 'p': // newline-terminated argument
			if _, ok := line(); !ok {
				return bad(at, "opcode %q lacks its newline-terminated argument", op)
			}
		case 'c', 'i': // GLOBAL, INST: "module\nname\n"
			module, ok1 := line()
			name, ok2 := line()
			if !ok1 || !ok2 {
				return bad(at, "GLOBAL truncated")
			}
			if !allowedGlobal(module, name) {
				return &UnsafePickleError{File: file, Global: module + "." + name}
			}
		case 'U', 'C', 0x8c, 0x8a: // one-byte length then data
			if !need(1) {
				return bad(at, "opcode 0x%02x truncated", op)
			}
			n := uint64(data[pos])
			pos++
			if !need(n) {
				return bad(at, "opcode 0x%02x declares %d bytes, %d left", op, n, len(data)-pos)
			}
			pos += int(n)
		case 'T', 'X', 'B', 0x8b: // four-byte length then data
			if !need(4) {
				return bad(at, "opcode 0x%02x truncated", op)
			}
			n := uint64(binary.LittleEndian.Uint32(data[pos:]))
			pos += 4
			if !need(n) {
				return bad(at, "opcode 0x%02x declares %d bytes, %d left", op, n, len(data)-pos)
			}
			pos += int(n)
		case 0x8d, 0x8e, 0x96: // eight-byte length then data
			if !need(8) {
				return bad(at, "opcode 0x%02x truncated", op)
			}
			n := binary.LittleEndian.Uint64(data[pos:])
			pos += 8
			if !need(n) {
				return bad(at, "opcode 0x%02x declares %d bytes, %d left", op, n, len(data)-pos)
			}
			pos += int(n)
		default:
			return bad(at, "unknown opcode 0x%02x", op)
		}
	}
	return bad(pos, "no STOP opcode")
}
