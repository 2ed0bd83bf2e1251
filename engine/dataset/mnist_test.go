package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sync"
	"testing"
)

// engineDataset mirrors engine.Dataset, which this package cannot import.
type engineDataset interface {
	Len() int
	Shape() []int
	NumClasses() int
	Image(i int, dst []float64) (label int)
}

var _ engineDataset = (*Set)(nil)

func TestMNISTFilesSHA256(t *testing.T) {
	want := map[string]string{
		"train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
		"train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
		"t10k-images-idx3-ubyte.gz":  "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
		"t10k-labels-idx1-ubyte.gz":  "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
	}
	entries, err := mnistFiles.ReadDir("mnist")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		t.Errorf("%d embedded files, want %d", len(entries), len(want))
	}
	for name, sum := range want {
		b, err := mnistFiles.ReadFile("mnist/" + name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
			t.Errorf("SHA-256(%s) = %x, want %s", name, got, sum)
		}
	}
}

func TestMNIST(t *testing.T) {
	train, test, err := MNIST()
	if err != nil {
		t.Fatalf("MNIST: %v", err)
	}
	tests := []struct {
		set        *Set
		name       string
		n          int
		firstLabel []int
	}{
		{train, "mnist-train", 60000, []int{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}},
		{test, "mnist-test", 10000, []int{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}},
	}
	dst := make([]float64, 28*28)
	for _, tt := range tests {
		s := tt.set
		if s.Name() != tt.name || s.Len() != tt.n || !slices.Equal(s.Shape(), []int{1, 28, 28}) || s.NumClasses() != 10 {
			t.Errorf("%s: Name, Len, Shape, NumClasses = %q, %d, %v, %d, want %q, %d, [1 28 28], 10",
				tt.name, s.Name(), s.Len(), s.Shape(), s.NumClasses(), tt.name, tt.n)
		}
		if names := s.ClassNames(); names[0] != "0" || names[9] != "9" {
			t.Errorf("%s: ClassNames = %v, want 0 … 9", tt.name, names)
		}
		for i, want := range tt.firstLabel {
			if got := s.Image(i, dst); got != want {
				t.Errorf("%s.Image(%d) label = %d, want %d", tt.name, i, got, want)
			}
		}
		counts := make([]int, 10)
		for i := range s.Len() {
			counts[s.Label(i)]++
		}
		for k, c := range counts { // every digit is between 8.9% and 11.4% of either set
			if c < tt.n*89/1000 || c > tt.n*114/1000 {
				t.Errorf("%s: %d samples of digit %d out of %d", tt.name, c, k, tt.n)
			}
		}
	}
	// The first training image, a 5: its pixels are bytes/255, and it has ink.
	train.Image(0, dst)
	var ink int
	for j, v := range dst {
		if v != float64(train.Pixels(0)[j])/255 || v < 0 || v > 1 {
			t.Fatalf("mnist-train.Image(0)[%d] = %v, want %d/255", j, v, train.Pixels(0)[j])
		}
		if v > 0.5 {
			ink++
		}
	}
	if ink < 50 || ink > 400 {
		t.Errorf("mnist-train image 0 has %d pixels above 0.5, want a digit's worth (50 … 400)", ink)
	}
}

func TestMNISTShared(t *testing.T) {
	var wg sync.WaitGroup
	got := make([]*Set, 4)
	for i := range got {
		wg.Go(func() { got[i], _, _ = MNIST() })
	}
	wg.Wait()
	for i, s := range got {
		if s == nil || s != got[0] {
			t.Errorf("call %d returned %p, want the shared set %p", i, s, got[0])
		}
	}
}
