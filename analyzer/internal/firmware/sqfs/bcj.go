package sqfs

import "encoding/binary"

// BCJ ("branch/call/jump") filters rewrite the target of relative branch
// instructions as absolute addresses before compression, which makes
// repeated calls to one function compress better. Decoding turns absolute
// addresses back into relative ones. Each function below decodes a whole
// block in place; start is the filter's start offset (the address of
// buf[0]). The algorithms follow the xz file format's filter descriptions.

// bcjX86 decodes the x86 filter: E8 (CALL) and E9 (JMP) followed by a
// 32-bit displacement whose top byte is 0x00 or 0xFF. A short history of
// recently seen E8/E9 bytes (prevMask) keeps the filter from converting
// bytes that are operands of a preceding candidate.
func bcjX86(buf []byte, start uint32) {
	if len(buf) < 5 {
		return
	}
	// Indexed by prevMask: whether a candidate may be converted, and how
	// many bytes back the byte to test lies.
	allowed := [8]bool{true, true, true, false, true, false, false, false}
	bitNum := [8]uint32{0, 1, 2, 2, 3, 3, 3, 3}
	topByte := func(b byte) bool { return b == 0x00 || b == 0xFF }

	var prevMask uint32
	prevPos := -1
	limit := len(buf) - 4
	for i := 0; i < limit; i++ {
		if buf[i]&0xFE != 0xE8 {
			continue
		}
		if d := i - prevPos; d > 3 {
			prevMask = 0
		} else {
			prevMask = (prevMask << (d - 1)) & 7
			if prevMask != 0 {
				b := buf[i+4-int(bitNum[prevMask])]
				if !allowed[prevMask] || topByte(b) {
					prevPos = i
					prevMask = prevMask<<1 | 1
					continue
				}
			}
		}
		prevPos = i
		if !topByte(buf[i+4]) {
			prevMask = prevMask<<1 | 1
			continue
		}
		src := binary.LittleEndian.Uint32(buf[i+1:])
		var dest uint32
		for {
			dest = src - (start + uint32(i) + 5)
			if prevMask == 0 {
				break
			}
			j := bitNum[prevMask] * 8
			if !topByte(byte(dest >> (24 - j))) {
				break
			}
			src = dest ^ (1<<(32-j) - 1)
		}
		dest &= 0x01FFFFFF
		dest |= -(dest & 0x01000000) // sign-extend bit 24
		binary.LittleEndian.PutUint32(buf[i+1:], dest)
		i += 4
	}
}

// bcjARM decodes the ARM filter: BL instructions (condition "always",
// opcode byte 0xEB) with a 24-bit word offset.
func bcjARM(buf []byte, start uint32) {
	for i := 0; i+4 <= len(buf); i += 4 {
		if buf[i+3] != 0xEB {
			continue
		}
		src := (uint32(buf[i+2])<<16 | uint32(buf[i+1])<<8 | uint32(buf[i])) << 2
		dest := (src - (start + uint32(i) + 8)) >> 2
		buf[i], buf[i+1], buf[i+2] = byte(dest), byte(dest>>8), byte(dest>>16)
	}
}

// bcjARMThumb decodes the ARM Thumb filter: the two halves of a Thumb BL
// instruction pair with a 22-bit halfword offset.
func bcjARMThumb(buf []byte, start uint32) {
	for i := 0; i+4 <= len(buf); i += 2 {
		if buf[i+1]&0xF8 != 0xF0 || buf[i+3]&0xF8 != 0xF8 {
			continue
		}
		src := (uint32(buf[i+1]&7)<<19 | uint32(buf[i])<<11 | uint32(buf[i+3]&7)<<8 | uint32(buf[i+2])) << 1
		dest := (src - (start + uint32(i) + 4)) >> 1
		buf[i+1] = 0xF0 | byte(dest>>19)&7
		buf[i] = byte(dest >> 11)
		buf[i+3] = 0xF8 | byte(dest>>8)&7
		buf[i+2] = byte(dest)
		i += 2
	}
}

// bcjPowerPC decodes the PowerPC filter: big-endian "bl" instructions
// (primary opcode 18, AA=0, LK=1).
func bcjPowerPC(buf []byte, start uint32) {
	for i := 0; i+4 <= len(buf); i += 4 {
		if buf[i]>>2 != 0x12 || buf[i+3]&3 != 1 {
			continue
		}
		src := binary.BigEndian.Uint32(buf[i:]) & 0x03FFFFFC
		dest := src - (start + uint32(i))
		buf[i] = 0x48 | byte(dest>>24)&0x03
		buf[i+1] = byte(dest >> 16)
		buf[i+2] = byte(dest >> 8)
		buf[i+3] = buf[i+3]&0x03 | byte(dest)
	}
}

// bcjSPARC decodes the SPARC filter: "call" instructions whose 30-bit
// displacement fits in 23 bits (sign included).
func bcjSPARC(buf []byte, start uint32) {
	for i := 0; i+4 <= len(buf); i += 4 {
		if !(buf[i] == 0x40 && buf[i+1]&0xC0 == 0) && !(buf[i] == 0x7F && buf[i+1]&0xC0 == 0xC0) {
			continue
		}
		src := binary.BigEndian.Uint32(buf[i:]) << 2
		dest := (src - (start + uint32(i))) >> 2
		dest = (-(dest>>22&1)<<22)&0x3FFFFFFF | dest&0x3FFFFF | 0x40000000
		binary.BigEndian.PutUint32(buf[i:], dest)
	}
}

// bcjARM64 decodes the ARM64 filter: BL instructions (26-bit word offset)
// and ADRP instructions whose page offset fits in 18 bits (sign included).
func bcjARM64(buf []byte, start uint32) {
	for i := 0; i+4 <= len(buf); i += 4 {
		pc := start + uint32(i)
		ins := binary.LittleEndian.Uint32(buf[i:])
		switch {
		case ins>>26 == 0x25: // BL
			ins = 0x94000000 | (ins-pc>>2)&0x03FFFFFF
		case ins&0x9F000000 == 0x90000000: // ADRP
			src := ins>>29&3 | ins>>3&0x001FFFFC
			if (src+0x00020000)&0x001C0000 != 0 {
				continue
			}
			dest := src - pc>>12
			ins &= 0x9000001F
			ins |= (dest & 3) << 29
			ins |= (dest & 0x0003FFFC) << 3
			ins |= -(dest & 0x00020000) & 0x00E00000
		default:
			continue
		}
		binary.LittleEndian.PutUint32(buf[i:], ins)
	}
}

// ia64Slots tells, for each IA-64 bundle template (low 5 bits of the
// bundle), which of the three instruction slots may hold a branch.
var ia64Slots = [32]byte{
	16: 4, 17: 4, 18: 6, 19: 6, 22: 7, 23: 7,
	24: 4, 25: 4, 28: 4, 29: 4,
}

// bcjIA64 decodes the IA-64 filter: IP-relative branches in the branch
// slots of 16-byte instruction bundles, each slot 41 bits wide.
func bcjIA64(buf []byte, start uint32) {
	for i := 0; i+16 <= len(buf); i += 16 {
		mask := ia64Slots[buf[i]&0x1F]
		for slot := range 3 {
			if mask>>slot&1 == 0 {
				continue
			}
			bitPos := 5 + 41*slot
			bytePos, bitRes := i+bitPos>>3, uint(bitPos&7)
			var ins uint64
			for j := range 6 {
				ins |= uint64(buf[bytePos+j]) << (8 * j)
			}
			norm := ins >> bitRes
			if norm>>37&0x0F != 0x05 || norm>>9&0x07 != 0 {
				continue
			}
			addr := uint32(norm>>13) & 0x0FFFFF
			addr |= uint32(norm>>36) & 1 << 20
			addr <<= 4
			addr -= start + uint32(i)
			addr >>= 4
			norm &^= uint64(0x8FFFFF) << 13
			norm |= uint64(addr&0x0FFFFF) << 13
			norm |= uint64(addr&0x100000) << (36 - 20)
			ins &= 1<<bitRes - 1
			ins |= norm << bitRes
			for j := range 6 {
				buf[bytePos+j] = byte(ins >> (8 * j))
			}
		}
	}
}
