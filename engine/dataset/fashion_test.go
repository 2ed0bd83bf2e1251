package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// requireFashion says whether a missing Fashion-MNIST fails the tests
// instead of skipping them: CI installs Debian's dataset-fashion-mnist and
// sets REQUIRE_FASHION=1.
func requireFashion() bool { return os.Getenv("REQUIRE_FASHION") == "1" }

func TestFashionMNISTInstalled(t *testing.T) {
	if !FashionMNISTInstalled(FashionMNISTDir) {
		if requireFashion() {
			t.Fatalf("REQUIRE_FASHION=1 but %s lacks the Fashion-MNIST files (%s)", FashionMNISTDir, FashionMNISTInstall)
		}
		t.Skipf("Fashion-MNIST is not installed (%s)", FashionMNISTInstall)
	}
	train, test, err := FashionMNIST(FashionMNISTDir)
	if err != nil {
		t.Fatalf("FashionMNIST: %v", err)
	}
	if train.Len() != 60000 || test.Len() != 10000 {
		t.Errorf("FashionMNIST: %d training and %d test images, want 60000 and 10000", train.Len(), test.Len())
	}
	if !slices.Equal(train.Shape(), []int{1, 28, 28}) {
		t.Errorf("FashionMNIST shape %v, want [1 28 28]", train.Shape())
	}
	if got := train.ClassNames(); len(got) != 10 || got[0] != "T-shirt/top" || got[9] != "Ankle boot" {
		t.Errorf("FashionMNIST classes %q", got)
	}
	// The first training image of Fashion-MNIST is an ankle boot (label 9).
	if l := train.Label(0); l != 9 {
		t.Errorf("first training label %d, want 9 (Ankle boot)", l)
	}
	if train.Name() != "fashion-train" || test.Name() != "fashion-test" {
		t.Errorf("names %q, %q", train.Name(), test.Name())
	}
}

func TestFashionMNISTMissing(t *testing.T) {
	dir := t.TempDir()
	if FashionMNISTInstalled(dir) {
		t.Fatalf("FashionMNISTInstalled(empty dir) = true")
	}
	_, _, err := FashionMNIST(dir)
	if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), FashionMNISTInstall) {
		t.Errorf("FashionMNIST(empty dir) error = %v, want ErrNotInstalled with %q", err, FashionMNISTInstall)
	}
}

// Files of the right names but other bytes (here a tiny valid IDX set) are
// refused by their SHA-256, naming the file.
func TestFashionMNISTChecksum(t *testing.T) {
	dir := writeDir(t, []byte{0, 1}, []byte{1}, "")
	for _, f := range []string{"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f+".gz"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !FashionMNISTInstalled(dir) {
		t.Fatalf("FashionMNISTInstalled = false with the four files present")
	}
	_, _, err := FashionMNIST(dir)
	if err == nil || errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "train-images-idx3-ubyte.gz has SHA-256") {
		t.Errorf("FashionMNIST(other bytes) error = %v, want the SHA-256 of train-images-idx3-ubyte.gz refused", err)
	}
}
