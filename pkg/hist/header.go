package hist

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
)

// V2 compressed encoding: base64 of a 4-byte cookie, a 4-byte length and a
// zlib stream whose first 40 bytes are the header: cookie, payload length,
// normalizing index offset, significant digits (int32 each), lowest and
// highest trackable value (int64 each) and a conversion ratio.
const headerBytes = 40

// checkHeader reads only the header of an encoded histogram and refuses a
// geometry other than Stampede's.
func checkHeader(s string) error {
	// 8 outer bytes and a little of the zlib stream are enough for the
	// header; decode only that much base64
	n := min(len(s), base64.StdEncoding.EncodedLen(8+512))
	n -= n % 4
	raw, err := base64.StdEncoding.DecodeString(s[:n])
	if err != nil || len(raw) < 8 {
		return fmt.Errorf("hist: decode: not a V2 compressed histogram")
	}
	z, err := zlibReader(raw[8:]) // pooled: the leader checks every report's histograms
	if err != nil {
		return fmt.Errorf("hist: decode: %w", err)
	}
	defer zrPool.Put(z)
	var h [headerBytes]byte
	if _, err := io.ReadFull(z, h[:]); err != nil {
		return fmt.Errorf("hist: decode: header: %w", err)
	}
	digits := int32(binary.BigEndian.Uint32(h[12:16]))
	lowest := int64(binary.BigEndian.Uint64(h[16:24]))
	highest := int64(binary.BigEndian.Uint64(h[24:32]))
	if digits != SigFigs || lowest != Lowest || highest < 2 || highest > Highest {
		return fmt.Errorf("%w: %d..%d at %d digits, want %d..%d at %d", ErrGeometry, lowest, highest, digits, Lowest, Highest, SigFigs)
	}
	return nil
}

// CheckEncoded reports, without decoding the counts, whether s can be a
// histogram of Stampede's geometry: its length is within MaxEncoded and
// its header names the geometry. Decode still checks the rest.
func CheckEncoded(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > MaxEncoded {
		return fmt.Errorf("hist: %d bytes encoded; the limit is %d", len(s), MaxEncoded)
	}
	return checkHeader(s)
}
