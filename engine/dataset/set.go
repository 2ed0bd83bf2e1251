package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Set is a labelled set of N images of shape (C, H, W), stored as 8-bit
// intensities. It is read-only once built and safe for concurrent use.
// *Set satisfies engine.Dataset.
type Set struct {
	name    string
	c, h, w int
	pix     []uint8 // (N, C, H, W) row-major; 0 background … 255 full ink
	labels  []uint8 // (N); each < len(classes)
	classes []string
}

// unit[x] = x/255: the normalised value of intensity x.
var unit = func() (t [256]float64) {
	for x := range t {
		t[x] = float64(x) / 255
	}
	return t
}()

// NewSet pairs N single-channel images with N labels. classNames names
// labels 0 … K−1; if nil, K is the largest label + 1 and the names are the
// digits "0" … "K−1". It returns an error wrapping [ErrMismatch] when the
// counts differ, when a label is K or more, or when there are no images.
// The set keeps images.Pix and labels; do not modify them afterwards.
func NewSet(name string, images *Images, labels []uint8, classNames []string) (*Set, error) {
	if images.N != len(labels) {
		return nil, fmt.Errorf("dataset %s: %w: %d images but %d labels", name, ErrMismatch, images.N, len(labels))
	}
	if images.N == 0 {
		return nil, fmt.Errorf("dataset %s: %w: no images", name, ErrMismatch)
	}
	if classNames == nil {
		classNames = digitNames(int(maxLabel(labels)) + 1)
	}
	for i, l := range labels {
		if int(l) >= len(classNames) {
			return nil, fmt.Errorf("dataset %s: %w: label %d of sample %d, want < %d classes",
				name, ErrMismatch, l, i, len(classNames))
		}
	}
	return &Set{name: name, c: 1, h: images.H, w: images.W, pix: images.Pix, labels: labels, classes: classNames}, nil
}

// Name is the set's name, e.g. "mnist-train".
func (s *Set) Name() string { return s.name }

// Len is the number of samples N.
func (s *Set) Len() int { return len(s.labels) }

// Shape is the per-sample image shape (C, H, W); a new slice each call.
func (s *Set) Shape() []int { return []int{s.c, s.h, s.w} }

// NumClasses is the number of labels K; labels are 0 … K−1.
func (s *Set) NumClasses() int { return len(s.classes) }

// ClassNames names each label 0 … K−1 ("0" … "9" for MNIST). The caller
// must not modify the slice.
func (s *Set) ClassNames() []string { return s.classes }

// Label is sample i's label, 0 ≤ i < Len().
func (s *Set) Label(i int) int { return int(s.labels[i]) }

// Pixels is sample i's raw intensities, C·H·W bytes in row-major (C, H, W)
// order, 0 background … 255 full ink. The caller must not modify them.
func (s *Set) Pixels(i int) []uint8 {
	chw := s.c * s.h * s.w
	return s.pix[i*chw : (i+1)*chw : (i+1)*chw]
}

// Image writes sample i's normalised pixels x/255 in [0, 1], C·H·W values in
// row-major (C, H, W) order, into dst[:C·H·W] and returns its label. It
// panics if i is out of range or len(dst) < C·H·W.
func (s *Set) Image(i int, dst []float64) (label int) {
	chw := s.c * s.h * s.w
	if i < 0 || i >= len(s.labels) {
		panic(fmt.Sprintf("dataset: %s.Image(%d): index out of range [0, %d)", s.name, i, len(s.labels)))
	}
	if len(dst) < chw {
		panic(fmt.Sprintf("dataset: %s.Image: len(dst) = %d, want ≥ C·H·W = %d", s.name, len(dst), chw))
	}
	for j, x := range s.pix[i*chw : (i+1)*chw] {
		dst[j] = unit[x]
	}
	return int(s.labels[i])
}

// LoadIDX reads an IDX image file and its label file from disk (raw or
// gzipped) and pairs them; the set is named after the image file and its
// class names are the digits. Errors are those of [ReadIDXImages],
// [ReadIDXLabels] and [NewSet], prefixed with the file name.
func LoadIDX(imagesPath, labelsPath string) (*Set, error) {
	images, labels, err := loadPair(imagesPath, labelsPath)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.Base(imagesPath), ".gz")
	return NewSet(name, images, labels, nil)
}

// LoadDir loads a training and a test set from a directory laid out like the
// MNIST distribution, as Fashion-MNIST and KMNIST are:
//
//	train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]
//	t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]
//	classes.txt                   optional: one class name per line, label 0 first
//
// The sets are named "<dir>-train" and "<dir>-test" after the directory's
// base name. Both get the same K classes: the lines of classes.txt, or the
// digits "0" … up to the largest label in either set.
func LoadDir(dir string) (train, test *Set, err error) {
	paths := map[string]string{}
	for _, f := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		p := filepath.Join(dir, f)
		if _, err := os.Stat(p); err != nil {
			p += ".gz"
			if _, err := os.Stat(p); err != nil {
				return nil, nil, fmt.Errorf("dataset %s: no %s or %s.gz", dir, f, f)
			}
		}
		paths[f] = p
	}
	trImages, trLabels, err := loadPair(paths["train-images-idx3-ubyte"], paths["train-labels-idx1-ubyte"])
	if err != nil {
		return nil, nil, err
	}
	teImages, teLabels, err := loadPair(paths["t10k-images-idx3-ubyte"], paths["t10k-labels-idx1-ubyte"])
	if err != nil {
		return nil, nil, err
	}
	if trImages.H != teImages.H || trImages.W != teImages.W {
		return nil, nil, fmt.Errorf("dataset %s: %w: train images %d×%d, test images %d×%d",
			dir, ErrMismatch, trImages.H, trImages.W, teImages.H, teImages.W)
	}
	classes, err := readClassNames(filepath.Join(dir, "classes.txt"))
	if err != nil {
		return nil, nil, err
	}
	if classes == nil {
		classes = digitNames(int(max(maxLabel(trLabels), maxLabel(teLabels))) + 1)
	}
	base := filepath.Base(filepath.Clean(dir))
	if train, err = NewSet(base+"-train", trImages, trLabels, classes); err != nil {
		return nil, nil, err
	}
	if test, err = NewSet(base+"-test", teImages, teLabels, classes); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

func loadPair(imagesPath, labelsPath string) (*Images, []uint8, error) {
	f, err := os.Open(imagesPath)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	images, err := ReadIDXImages(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", imagesPath, err)
	}
	g, err := os.Open(labelsPath)
	if err != nil {
		return nil, nil, err
	}
	defer g.Close()
	labels, err := ReadIDXLabels(g)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", labelsPath, err)
	}
	if images.N != len(labels) {
		return nil, nil, fmt.Errorf("%s, %s: %w: %d images but %d labels",
			imagesPath, labelsPath, ErrMismatch, images.N, len(labels))
	}
	return images, labels, nil
}

// readClassNames reads one name per non-empty line; a missing file gives nil.
func readClassNames(path string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			names = append(names, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(names) == 0 || len(names) > 256 {
		return nil, fmt.Errorf("%s: %d class names, want 1 … 256", path, len(names))
	}
	return names, nil
}

func maxLabel(labels []uint8) uint8 {
	var m uint8
	for _, l := range labels {
		m = max(m, l)
	}
	return m
}

func digitNames(k int) []string {
	names := make([]string, k)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	return names
}
