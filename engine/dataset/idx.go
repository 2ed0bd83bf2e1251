package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The IDX format (http://yann.lecun.com/exdb/mnist/) is a big-endian header
// followed by the raw elements in row-major order:
//
//	offset  size  field
//	0       4     magic: 0x00 0x00, element type (0x08 = unsigned byte), number of dimensions d
//	4       4·d   dimension sizes, big-endian uint32 (N first)
//	4+4·d   …     N·… elements, one byte each for type 0x08
//
// Image files have magic 0x00000803 (d = 3: N, H, W); label files have magic
// 0x00000801 (d = 1: N). The files are usually distributed gzipped; the
// readers detect gzip by its magic bytes 1f 8b and accept either form.
//
// EMNIST files use the same format but store every image transposed (column
// by column); Transpose them to see upright letters.
const (
	magicImages = 0x00000803 // unsigned bytes, 3 dimensions (N, H, W)
	magicLabels = 0x00000801 // unsigned bytes, 1 dimension (N)
)

// Limits that reject absurd headers before any large allocation.
const (
	maxSide   = 1024    // largest accepted image height or width, in pixels
	maxCount  = 1 << 24 // largest accepted number of images or labels
	maxPixels = 1 << 31 // largest accepted N·H·W, in bytes
)

// Errors the IDX readers wrap; test for them with errors.Is. The wrapping
// error says what was found and what was wanted.
var (
	ErrMagic     = errors.New("not an IDX file of the expected kind")
	ErrTruncated = errors.New("truncated IDX file")
	ErrTrailing  = errors.New("extra bytes after IDX data")
	ErrDims      = errors.New("unsupported IDX dimensions")
	ErrMismatch  = errors.New("images and labels do not match")
)

// Images is a stack of N grey-scale images of H×W pixels, as stored in an
// IDX image file.
type Images struct {
	N, H, W int
	Pix     []uint8 // (N, H, W) row-major; 0 background … 255 full ink
}

// Transpose returns a copy with every image transposed (H and W swapped),
// which turns EMNIST's column-major images upright.
func (m *Images) Transpose() *Images {
	t := &Images{N: m.N, H: m.W, W: m.H, Pix: make([]uint8, len(m.Pix))}
	hw := m.H * m.W
	for n := range m.N {
		src, dst := m.Pix[n*hw:(n+1)*hw], t.Pix[n*hw:(n+1)*hw]
		for y := range m.H {
			for x := range m.W {
				dst[x*m.H+y] = src[y*m.W+x]
			}
		}
	}
	return t
}

// ReadIDXImages decodes an IDX image file (magic 0x00000803), raw or
// gzipped. It returns an error wrapping [ErrMagic] for another kind of file,
// [ErrDims] for a zero or absurd dimension (a side above 1024 pixels, more
// than 2^24 images), [ErrTruncated] when the file ends early and
// [ErrTrailing] when bytes follow the last image.
func ReadIDXImages(r io.Reader) (*Images, error) {
	dims, body, err := readIDX(r, magicImages, 3)
	if err != nil {
		return nil, err
	}
	n, h, w := dims[0], dims[1], dims[2]
	if n < 0 || h < 1 || w < 1 || h > maxSide || w > maxSide || n > maxCount || n*h*w > maxPixels {
		return nil, fmt.Errorf("idx images: %w: %d×%d×%d (N×H×W), want 1 ≤ H, W ≤ %d and N ≤ %d",
			ErrDims, n, h, w, maxSide, maxCount)
	}
	pix, err := readBody(body, n*h*w, "pixels")
	if err != nil {
		return nil, fmt.Errorf("idx images: %w", err)
	}
	return &Images{N: n, H: h, W: w, Pix: pix}, nil
}

// ReadIDXLabels decodes an IDX label file (magic 0x00000801), raw or
// gzipped: one byte per sample. Errors are as for [ReadIDXImages].
func ReadIDXLabels(r io.Reader) ([]uint8, error) {
	dims, body, err := readIDX(r, magicLabels, 1)
	if err != nil {
		return nil, err
	}
	if dims[0] < 0 || dims[0] > maxCount {
		return nil, fmt.Errorf("idx labels: %w: %d labels, want at most %d", ErrDims, dims[0], maxCount)
	}
	labels, err := readBody(body, dims[0], "labels")
	if err != nil {
		return nil, fmt.Errorf("idx labels: %w", err)
	}
	return labels, nil
}

// readIDX opens r (gunzipping it if it starts with 1f 8b), checks the magic
// number and returns the d dimension sizes and the reader positioned at the
// first element.
func readIDX(r io.Reader, magic uint32, d int) (dims []int, body io.Reader, err error) {
	what := map[uint32]string{magicImages: "images", magicLabels: "labels"}[magic]
	br := bufio.NewReader(r)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, fmt.Errorf("idx %s: %w: gzip header cut short", what, ErrTruncated)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("idx %s: gzip: %w", what, err)
		}
		body = zr
	} else {
		body = br
	}
	hdr := make([]byte, 4+4*d)
	if got, err := io.ReadFull(body, hdr); err != nil {
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, fmt.Errorf("idx %s: header: %w", what, err)
		}
		if got >= 4 && binary.BigEndian.Uint32(hdr) != magic {
			return nil, nil, magicError(what, binary.BigEndian.Uint32(hdr), magic)
		}
		return nil, nil, fmt.Errorf("idx %s: %w: header wants %d bytes, got %d", what, ErrTruncated, len(hdr), got)
	}
	if m := binary.BigEndian.Uint32(hdr); m != magic {
		return nil, nil, magicError(what, m, magic)
	}
	dims = make([]int, d)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(hdr[4+4*i:]))
	}
	return dims, body, nil
}

func magicError(what string, got, want uint32) error {
	kind := map[uint32]string{magicImages: " (images)", magicLabels: " (labels)"}
	return fmt.Errorf("idx %s: %w: magic number 0x%08x%s, want 0x%08x%s",
		what, ErrMagic, got, kind[got], want, kind[want])
}

// readBody reads exactly n bytes of elements and checks that nothing
// follows. The buffer grows with the data actually read, so a header that
// claims more than the file holds costs no large allocation.
func readBody(r io.Reader, n int, what string) ([]uint8, error) {
	var buf bytes.Buffer
	buf.Grow(min(n, 1<<26) + 1)
	got, err := buf.ReadFrom(io.LimitReader(r, int64(n)+1))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if got < int64(n) {
		return nil, fmt.Errorf("%w: %s want %d bytes, got %d", ErrTruncated, what, n, got)
	}
	if got > int64(n) {
		return nil, fmt.Errorf("%w: %s want %d bytes, got more", ErrTrailing, what, n)
	}
	return buf.Bytes()[:n], nil
}
