package engine

// Dataset is a labelled set of images that the trainer reads. The package
// engine/dataset provides MNIST-format files and the procedural shapes set.
type Dataset interface {
	// Len is the number of samples.
	Len() int
	// Shape is the per-sample image shape (C, H, W).
	Shape() []int
	// NumClasses is the number of labels K; labels are 0 … K−1.
	NumClasses() int
	// Image writes sample i's normalised pixels, C·H·W values in row-major
	// order, into dst and returns its label. 0 ≤ i < Len().
	Image(i int, dst []float64) (label int)
}

// Data is a training set and a held-out test set of the same shape.
type Data struct {
	Name  string // "mnist", "shapes", ...
	Train Dataset
	Test  Dataset
	// ClassNames names each label ("0" … "9" for MNIST); may be nil.
	ClassNames []string
}
