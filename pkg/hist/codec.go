package hist

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// A fast codec for the V2 compressed encoding: the same header and counts
// payload as hdrhistogram-go writes, which any HdrHistogram reader decodes
// (a test holds both directions to the library), without its costs: the
// library allocates a new best-compression zlib writer (about 800 KB) and
// writes every count through reflection, about 1 ms per histogram, which a
// worker pays twice a second and the leader once per worker-second. Here
// the zlib writers and readers and the buffers are pooled, and the stream
// is not searched for repeats at all (resetting a best-compression writer
// clears some 640 KB of hash tables, which was most of the cost of
// encoding): a payload of up to storeBelow bytes — an interval of a few
// dozen distinct values, or a worker's cumulative of a few hundred — is
// stored as it is (building Huffman tables for it cost more than the rest
// of its encoding and decoding, to save a few hundred bytes), a larger one
// is Huffman-coded alone, which makes it as small as the fastest level did,
// and its header is a block of its own, so reading the header
// (CheckEncoded) decodes no Huffman table.

const (
	v2Cookie           = hdr.V2EncodingCookieBase | 0x10
	v2CompressedCookie = hdr.V2CompressedEncodingCookieBase | 0x10
)

var (
	storePool = zlibPool(zlib.NoCompression)
	huffPool  = zlibPool(zlib.HuffmanOnly)
	zrPool    sync.Pool // zlib readers (io.ReadCloser + zlib.Resetter)
	bufPool   = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// storeBelow is the payload size up to which a histogram is stored
// uncompressed. At 128 a worker's cumulative histogram of a 10 req/s run
// (some 300 values) was Huffman-coded every second: 240 bytes instead of
// 552 in base64, for about ten times the encoding time (`go test -run XXX
// -bench EncodeCumulative ./pkg/hist`), which in a simulated
// fleet of 2,000 workers was 13.8 % of its CPU samples, in the burst of
// reports at every second's end (docs/scale.md, "Profiling").
const storeBelow = 1024

func zlibPool(level int) *sync.Pool {
	return &sync.Pool{New: func() any {
		w, _ := zlib.NewWriterLevel(nil, level) // a valid level
		return w
	}}
}

// encodeV2 is the V2 compressed encoding of c, base64.
func encodeV2(c *counts) (string, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	writePayloadV2(buf, c)
	return compressV2(buf.Bytes(), buf.Len() > storeBelow)
}

// writePayloadV2 writes c's V2 counts payload to buf: its counts up to the
// last non-zero one, runs of zeros written as negative counts.
func writePayloadV2(buf *bytes.Buffer, c *counts) {
	var vb [9]byte
	if c.hi < 0 { // an empty histogram writes one zero count
		buf.Write(vb[:putZigZag(vb[:], 0)])
	}
	last := -1 // the last index written
	c.each(func(i int, n int64) {
		switch zeros := int64(i - last - 1); {
		case zeros == 1:
			buf.Write(vb[:putZigZag(vb[:], 0)])
		case zeros > 1:
			buf.Write(vb[:putZigZag(vb[:], -zeros)])
		}
		buf.Write(vb[:putZigZag(vb[:], n)])
		last = i
	})
}

// compressV2 wraps a counts payload in the V2 header, the zlib stream
// (its payload Huffman-coded or stored) and the outer cookie and length,
// base64.
func compressV2(payload []byte, huffman bool) (string, error) {
	const ratio = 1.0 // integer to double conversion: values are µs as recorded
	var head [headerBytes]byte
	binary.BigEndian.PutUint32(head[0:], uint32(v2Cookie))
	binary.BigEndian.PutUint32(head[4:], uint32(len(payload)))
	binary.BigEndian.PutUint32(head[8:], 0) // normalizing index offset
	binary.BigEndian.PutUint32(head[12:], uint32(SigFigs))
	binary.BigEndian.PutUint64(head[16:], uint64(Lowest))
	binary.BigEndian.PutUint64(head[24:], uint64(Highest))
	binary.BigEndian.PutUint64(head[32:], math.Float64bits(ratio))

	out := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(out)
	out.Reset()
	out.Write(make([]byte, 8)) // cookie and length, filled below
	pool := storePool
	if huffman {
		pool = huffPool
	}
	zw := pool.Get().(*zlib.Writer)
	defer pool.Put(zw)
	zw.Reset(out)
	if _, err := zw.Write(head[:]); err != nil {
		return "", fmt.Errorf("hist: encode: %w", err)
	}
	if pool == huffPool {
		if err := zw.Flush(); err != nil { // the header in a block of its own
			return "", fmt.Errorf("hist: encode: %w", err)
		}
	}
	if _, err := zw.Write(payload); err != nil {
		return "", fmt.Errorf("hist: encode: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("hist: encode: %w", err)
	}
	raw := out.Bytes()
	binary.BigEndian.PutUint32(raw[0:], uint32(v2CompressedCookie))
	binary.BigEndian.PutUint32(raw[4:], uint32(len(raw)-8))
	return base64.StdEncoding.EncodeToString(raw), nil
}

// putZigZag writes v as hdrhistogram's ZigZag LEB128-64b9B and returns
// its length: 7 bits a byte, the ninth byte carrying the last 8.
func putZigZag(b []byte, v int64) int {
	u := uint64((v << 1) ^ (v >> 63))
	for i := range 8 {
		if u>>7 == 0 {
			b[i] = byte(u)
			return i + 1
		}
		b[i] = byte(u&0x7f) | 0x80
		u >>= 7
	}
	b[8] = byte(u)
	return 9
}

// readZigZag is putZigZag's reverse; n is 0 for a truncated value.
func readZigZag(b []byte) (v int64, n int) {
	var u uint64
	for i := range 9 {
		if i >= len(b) {
			return 0, 0
		}
		if i == 8 {
			u |= uint64(b[i]) << 56
			n = 9
			break
		}
		u |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			n = i + 1
			break
		}
	}
	return int64(u>>1) ^ -int64(u&1), n
}

// errOtherGeometry sends Decode to the library's slower, general path.
var errOtherGeometry = errors.New("hist: not Stampede's exact geometry")

// decodeV2 decodes a histogram of exactly Stampede's geometry, checking
// everything the library checks; errOtherGeometry for any other geometry.
func decodeV2(s string) (*Histogram, error) {
	payload, release, err := inflate(s)
	if err != nil {
		return nil, err
	}
	defer release()
	h := New()
	if err := eachCount(payload, countsLen, func(i int, n int64) { h.c.add(i, n) }); err != nil {
		return nil, err
	}
	return h, nil
}

// inflate checks the envelope and header of an encoded histogram of
// exactly Stampede's geometry and returns its counts payload (valid until
// release); errOtherGeometry for any other geometry.
func inflate(s string) (payload []byte, release func(), err error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) < 8 {
		return nil, nil, errors.New("hist: decode: not a V2 compressed histogram")
	}
	// anything unusual (another cookie, trailing bytes) is the library's to
	// judge
	if int32(binary.BigEndian.Uint32(raw[0:]))&^0xf0 != hdr.V2CompressedEncodingCookieBase ||
		int(binary.BigEndian.Uint32(raw[4:])) != len(raw)-8 {
		return nil, nil, errOtherGeometry
	}
	z, err := zlibReader(raw[8:])
	if err != nil {
		return nil, nil, fmt.Errorf("hist: decode: %w", err)
	}
	defer zrPool.Put(z)
	var head [headerBytes]byte
	if _, err := io.ReadFull(z, head[:]); err != nil {
		return nil, nil, fmt.Errorf("hist: decode: header: %w", err)
	}
	payloadLen := int64(int32(binary.BigEndian.Uint32(head[4:])))
	if int32(binary.BigEndian.Uint32(head[0:]))&^0xf0 != hdr.V2EncodingCookieBase ||
		int32(binary.BigEndian.Uint32(head[12:])) != SigFigs ||
		int64(binary.BigEndian.Uint64(head[16:])) != Lowest ||
		int64(binary.BigEndian.Uint64(head[24:])) != Highest ||
		payloadLen < 0 || payloadLen > int64(countsLen)*9 {
		return nil, nil, errOtherGeometry
	}
	buf := bufPool.Get().(*bytes.Buffer)
	release = func() { bufPool.Put(buf) }
	buf.Reset()
	if _, err := io.Copy(buf, io.LimitReader(z, payloadLen+1)); err != nil {
		release()
		return nil, nil, fmt.Errorf("hist: decode: %w", err)
	}
	if int64(buf.Len()) != payloadLen {
		release()
		return nil, nil, fmt.Errorf("hist: decode: payload is %d bytes, header says %d", buf.Len(), payloadLen)
	}
	return buf.Bytes(), release, nil
}

// eachCount decodes a V2 payload of n counts, calling f for each non-zero
// one in index order; it refuses runs past the end, negative counts and
// totals past int64.
func eachCount(p []byte, n int, f func(i int, c int64)) error {
	idx, total := 0, int64(0)
	for len(p) > 0 {
		c, k := readZigZag(p)
		if k == 0 {
			return errors.New("hist: decode: truncated count")
		}
		p = p[k:]
		if c < 0 {
			if c == math.MinInt64 || -c > int64(n-idx) {
				return fmt.Errorf("hist: decode: a run of %d zeros at index %d overflows %d counts", -c, idx, n)
			}
			idx += int(-c)
			continue
		}
		if idx >= n {
			return fmt.Errorf("hist: decode: count index %d overflows %d counts", idx, n)
		}
		if c > math.MaxInt64-total {
			return errors.New("hist: decode: counts sum past int64")
		}
		if c > 0 {
			f(idx, c)
		}
		total += c
		idx++
	}
	return nil
}

// fillCounts decodes a V2 payload into counts.
func fillCounts(counts []int64, p []byte) error {
	return eachCount(p, len(counts), func(i int, c int64) { counts[i] = c })
}

// zlibReader is a pooled zlib reader over b.
func zlibReader(b []byte) (io.ReadCloser, error) {
	if r, ok := zrPool.Get().(io.ReadCloser); ok {
		if err := r.(zlib.Resetter).Reset(bytes.NewReader(b), nil); err != nil {
			return nil, err
		}
		return r, nil
	}
	return zlib.NewReader(bytes.NewReader(b))
}
