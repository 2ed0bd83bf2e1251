package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// FashionMNISTDir is where Debian's package dataset-fashion-mnist installs
// the four gzipped IDX files of Fashion-MNIST.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// FashionMNISTInstall is the command that installs the files into
// [FashionMNISTDir].
const FashionMNISTInstall = "apt-get install dataset-fashion-mnist"

// FashionMNISTClasses names Fashion-MNIST's labels 0 … 9.
var FashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// fashionSHA256 are the SHA-256 sums of the files Fashion-MNIST is
// distributed as (Zalando Research, release of 2017; the same bytes in
// Debian's dataset-fashion-mnist 0.0~git20200523).
var fashionSHA256 = map[string]string{
	"train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
	"train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
	"t10k-images-idx3-ubyte.gz":  "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
	"t10k-labels-idx1-ubyte.gz":  "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}

// ErrNotInstalled is wrapped by [FashionMNIST] when a file is missing.
var ErrNotInstalled = errors.New("not installed")

// FashionMNISTInstalled says whether dir holds the four files (it does not
// read them: [FashionMNIST] checks their sums).
func FashionMNISTInstalled(dir string) bool {
	for f := range fashionSHA256 {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || !st.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// FashionMNIST loads Zalando's Fashion-MNIST from dir (normally
// [FashionMNISTDir]): 60000 training and 10000 test images of shape
// (1, 28, 28), labels 0 … 9 named by [FashionMNISTClasses]. Each file's
// SHA-256 is checked before it is decoded. A missing file gives an error
// wrapping [ErrNotInstalled]; a file with other bytes an error naming it
// and both sums.
func FashionMNIST(dir string) (train, test *Set, err error) {
	for _, f := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		if err := checkSHA256(filepath.Join(dir, f), fashionSHA256[f]); err != nil {
			return nil, nil, err
		}
	}
	pair := func(name, prefix string) (*Set, error) {
		images, labels, err := loadPair(filepath.Join(dir, prefix+"-images-idx3-ubyte.gz"), filepath.Join(dir, prefix+"-labels-idx1-ubyte.gz"))
		if err != nil {
			return nil, err
		}
		return NewSet(name, images, labels, FashionMNISTClasses)
	}
	if train, err = pair("fashion-train", "train"); err != nil {
		return nil, nil, err
	}
	if test, err = pair("fashion-test", "t10k"); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// checkSHA256 compares path's SHA-256 with want (hex).
func checkSHA256(path, want string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("Fashion-MNIST: %w: no %s (%s)", ErrNotInstalled, path, FashionMNISTInstall)
	}
	if err != nil {
		return fmt.Errorf("Fashion-MNIST: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("Fashion-MNIST: read %s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("Fashion-MNIST: %s has SHA-256 %s, want %s (reinstall dataset-fashion-mnist)", path, got, want)
	}
	return nil
}
