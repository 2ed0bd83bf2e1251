package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// idxFile builds an IDX file with the given magic number, dimension sizes and
// body, gzipped if zip is set.
func idxFile(t *testing.T, magic uint32, dims []uint32, body []byte, zip bool) []byte {
	t.Helper()
	var raw bytes.Buffer
	binary.Write(&raw, binary.BigEndian, magic)
	binary.Write(&raw, binary.BigEndian, dims)
	raw.Write(body)
	if !zip {
		return raw.Bytes()
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write(raw.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

// seq returns n bytes 0, 7, 14, … (mod 256).
func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(7 * i)
	}
	return b
}

func TestReadIDXRoundTrip(t *testing.T) {
	for _, zip := range []bool{false, true} {
		name := map[bool]string{false: "raw", true: "gzip"}[zip]
		t.Run(name, func(t *testing.T) {
			pix := seq(3 * 2 * 4)
			img, err := ReadIDXImages(bytes.NewReader(idxFile(t, 0x803, []uint32{3, 2, 4}, pix, zip)))
			if err != nil {
				t.Fatalf("ReadIDXImages: %v", err)
			}
			if img.N != 3 || img.H != 2 || img.W != 4 || !bytes.Equal(img.Pix, pix) {
				t.Errorf("ReadIDXImages = %d×%d×%d %v, want 3×2×4 %v", img.N, img.H, img.W, img.Pix, pix)
			}
			labels, err := ReadIDXLabels(bytes.NewReader(idxFile(t, 0x801, []uint32{3}, []byte{2, 0, 1}, zip)))
			if err != nil {
				t.Fatalf("ReadIDXLabels: %v", err)
			}
			if !bytes.Equal(labels, []byte{2, 0, 1}) {
				t.Errorf("ReadIDXLabels = %v, want [2 0 1]", labels)
			}
			s, err := NewSet("tiny", img, labels, nil)
			if err != nil {
				t.Fatalf("NewSet: %v", err)
			}
			if got := s.Shape(); !slices.Equal(got, []int{1, 2, 4}) {
				t.Errorf("Shape() = %v, want [1 2 4]", got)
			}
			if s.Len() != 3 || s.NumClasses() != 3 || !slices.Equal(s.ClassNames(), []string{"0", "1", "2"}) {
				t.Errorf("Len, NumClasses, ClassNames = %d, %d, %v, want 3, 3, [0 1 2]", s.Len(), s.NumClasses(), s.ClassNames())
			}
			dst := make([]float64, 8)
			if l := s.Image(1, dst); l != 0 {
				t.Errorf("Image(1) label = %d, want 0", l)
			}
			for j, v := range dst {
				if want := float64(pix[8+j]) / 255; v != want {
					t.Errorf("Image(1)[%d] = %v, want %v", j, v, want)
				}
			}
		})
	}
}

func TestReadIDXErrors(t *testing.T) {
	images := func(zip bool, magic uint32, dims []uint32, body []byte) func(t *testing.T) error {
		return func(t *testing.T) error {
			_, err := ReadIDXImages(bytes.NewReader(idxFile(t, magic, dims, body, zip)))
			return err
		}
	}
	labels := func(zip bool, magic uint32, dims []uint32, body []byte) func(t *testing.T) error {
		return func(t *testing.T) error {
			_, err := ReadIDXLabels(bytes.NewReader(idxFile(t, magic, dims, body, zip)))
			return err
		}
	}
	cut := func(zip bool, keep int) func(t *testing.T) error { // a valid 2×3×3 image file, cut short
		return func(t *testing.T) error {
			f := idxFile(t, 0x803, []uint32{2, 3, 3}, seq(18), zip)
			_, err := ReadIDXImages(bytes.NewReader(f[:keep]))
			return err
		}
	}
	tests := []struct {
		name string
		read func(t *testing.T) error
		want error
		msg  string // a part of the message
	}{
		{"labels file read as images", images(false, 0x801, []uint32{2, 3, 3}, seq(18)), ErrMagic,
			"magic number 0x00000801 (labels), want 0x00000803 (images)"},
		{"images file read as labels", labels(true, 0x803, []uint32{2}, seq(2)), ErrMagic,
			"magic number 0x00000803 (images), want 0x00000801 (labels)"},
		{"float elements", images(false, 0x0D03, []uint32{1, 1, 1}, seq(4)), ErrMagic, "magic number 0x00000d03, want"},
		{"empty file", cut(false, 0), ErrTruncated, "header wants 16 bytes, got 0"},
		{"truncated header", cut(false, 7), ErrTruncated, "header wants 16 bytes, got 7"},
		{"truncated data", cut(false, 16+10), ErrTruncated, "pixels want 18 bytes, got 10"},
		{"truncated labels", labels(false, 0x801, []uint32{5}, seq(3)), ErrTruncated, "labels want 5 bytes, got 3"},
		{"truncated gzip data", images(true, 0x803, []uint32{2, 3, 3}, seq(12)), ErrTruncated, "pixels want 18 bytes, got 12"},
		{"truncated gzip stream", cut(true, 30), ErrTruncated, "pixels want 18 bytes, got "},
		{"truncated gzip header", cut(true, 5), ErrTruncated, "gzip header cut short"},
		{"trailing bytes", images(false, 0x803, []uint32{2, 3, 3}, seq(19)), ErrTrailing, "pixels want 18 bytes, got more"},
		{"zero height", images(false, 0x803, []uint32{2, 0, 3}, nil), ErrDims, "2×0×3"},
		{"huge side", images(false, 0x803, []uint32{1, 5000, 5000}, nil), ErrDims, "1×5000×5000"},
		{"huge count", images(true, 0x803, []uint32{1 << 30, 28, 28}, seq(10)), ErrDims, "1073741824×28×28"},
		{"huge label count", labels(false, 0x801, []uint32{1 << 31}, nil), ErrDims, "2147483648 labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.read(t)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error = %v, want %v containing %q", err, tt.want, tt.msg)
			}
		})
	}
}

func TestNewSetErrors(t *testing.T) {
	img := &Images{N: 3, H: 2, W: 2, Pix: seq(12)}
	tests := []struct {
		name    string
		images  *Images
		labels  []uint8
		classes []string
		msg     string
	}{
		{"more labels", img, []uint8{0, 1, 2, 3}, nil, "3 images but 4 labels"},
		{"fewer labels", img, []uint8{0, 1}, nil, "3 images but 2 labels"},
		{"label out of range", img, []uint8{0, 2, 1}, []string{"a", "b"}, "label 2 of sample 1, want < 2 classes"},
		{"empty", &Images{H: 2, W: 2}, nil, nil, "no images"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSet("x", tt.images, tt.labels, tt.classes)
			if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("NewSet error = %v, want ErrMismatch containing %q", err, tt.msg)
			}
		})
	}
}

func TestTranspose(t *testing.T) {
	// Two 2×3 images; the transpose of [0 1 2; 3 4 5] is [0 3; 1 4; 2 5].
	m := &Images{N: 2, H: 2, W: 3, Pix: []uint8{0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15}}
	got := m.Transpose()
	want := []uint8{0, 3, 1, 4, 2, 5, 10, 13, 11, 14, 12, 15}
	if got.N != 2 || got.H != 3 || got.W != 2 || !bytes.Equal(got.Pix, want) {
		t.Errorf("Transpose = %d×%d×%d %v, want 2×3×2 %v", got.N, got.H, got.W, got.Pix, want)
	}
}

// writeDir writes an MNIST-layout directory: nTrain and nTest 2×2 images,
// the train files gzipped, the test files raw.
func writeDir(t *testing.T, trainLabels, testLabels []byte, classes string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fashion")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"train-images-idx3-ubyte.gz": idxFile(t, 0x803, []uint32{uint32(len(trainLabels)), 2, 2}, seq(4*len(trainLabels)), true),
		"train-labels-idx1-ubyte.gz": idxFile(t, 0x801, []uint32{uint32(len(trainLabels))}, trainLabels, true),
		"t10k-images-idx3-ubyte":     idxFile(t, 0x803, []uint32{uint32(len(testLabels)), 2, 2}, seq(4*len(testLabels)), false),
		"t10k-labels-idx1-ubyte":     idxFile(t, 0x801, []uint32{uint32(len(testLabels))}, testLabels, false),
	}
	if classes != "" {
		files["classes.txt"] = []byte(classes)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadDir(t *testing.T) {
	tests := []struct {
		name          string
		train, test   []byte
		classes       string
		wantK         int
		wantClassName string // name of label 1
	}{
		{"digits from both sets", []byte{0, 1, 2}, []byte{3, 0}, "", 4, "1"},
		{"classes.txt", []byte{0, 1, 2}, []byte{1}, "T-shirt/top\nTrouser\n\nPullover\n", 3, "Trouser"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			train, test, err := LoadDir(writeDir(t, tt.train, tt.test, tt.classes))
			if err != nil {
				t.Fatalf("LoadDir: %v", err)
			}
			for _, s := range []*Set{train, test} {
				if s.NumClasses() != tt.wantK || s.ClassNames()[1] != tt.wantClassName {
					t.Errorf("%s: NumClasses = %d, ClassNames = %v, want %d classes, label 1 %q",
						s.Name(), s.NumClasses(), s.ClassNames(), tt.wantK, tt.wantClassName)
				}
			}
			if train.Name() != "fashion-train" || test.Name() != "fashion-test" {
				t.Errorf("names %q, %q, want fashion-train, fashion-test", train.Name(), test.Name())
			}
			if train.Len() != len(tt.train) || test.Len() != len(tt.test) || test.Label(0) != int(tt.test[0]) {
				t.Errorf("Len = %d, %d; test.Label(0) = %d, want %d, %d, %d",
					train.Len(), test.Len(), test.Label(0), len(tt.train), len(tt.test), tt.test[0])
			}
		})
	}
}

func TestLoadDirErrors(t *testing.T) {
	t.Run("missing file", func(t *testing.T) {
		dir := writeDir(t, []byte{0}, []byte{0}, "")
		os.Remove(filepath.Join(dir, "t10k-labels-idx1-ubyte"))
		_, _, err := LoadDir(dir)
		if err == nil || !strings.Contains(err.Error(), "no t10k-labels-idx1-ubyte or t10k-labels-idx1-ubyte.gz") {
			t.Errorf("LoadDir error = %v, want a missing t10k-labels-idx1-ubyte", err)
		}
	})
	t.Run("label beyond classes.txt", func(t *testing.T) {
		_, _, err := LoadDir(writeDir(t, []byte{0, 2}, []byte{0}, "a\nb\n"))
		if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "label 2 of sample 1, want < 2 classes") {
			t.Errorf("LoadDir error = %v, want ErrMismatch for label 2", err)
		}
	})
	t.Run("count mismatch names the files", func(t *testing.T) {
		dir := writeDir(t, []byte{0, 1}, []byte{0}, "")
		lab := filepath.Join(dir, "t10k-labels-idx1-ubyte")
		os.WriteFile(lab, idxFile(t, 0x801, []uint32{2}, []byte{0, 1}, false), 0o644)
		_, err := LoadIDX(filepath.Join(dir, "t10k-images-idx3-ubyte"), lab)
		if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "1 images but 2 labels") || !strings.Contains(err.Error(), lab) {
			t.Errorf("LoadIDX error = %v, want ErrMismatch naming %s", err, lab)
		}
	})
}

func TestLoadIDX(t *testing.T) {
	dir := writeDir(t, []byte{1, 0, 1}, []byte{0}, "")
	s, err := LoadIDX(filepath.Join(dir, "train-images-idx3-ubyte.gz"), filepath.Join(dir, "train-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatalf("LoadIDX: %v", err)
	}
	if s.Name() != "train-images-idx3-ubyte" || s.Len() != 3 || s.NumClasses() != 2 || !bytes.Equal(s.Pixels(2), seq(12)[8:]) {
		t.Errorf("LoadIDX = %q, %d samples, %d classes, Pixels(2) %v", s.Name(), s.Len(), s.NumClasses(), s.Pixels(2))
	}
}
