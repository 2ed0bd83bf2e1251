package engine

import (
	"fmt"
	"slices"
)

// Shape is the shape of one sample's tensor, outermost first: (C, H, W) for
// feature maps, (K) for a flat vector.
type Shape []int

// Size is the number of elements: the product of the dimensions.
func (s Shape) Size() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// String formats s as "(8,28,28)".
func (s Shape) String() string {
	b := []byte{'('}
	for i, d := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%d", d)
	}
	return string(append(b, ')'))
}

// Tensor is a dense, row-major array of float64 with a shape.
// len(Data) == product of Shape.
type Tensor struct {
	Shape []int
	Data  []float64
}

// NewTensor returns a zeroed tensor of the given shape.
func NewTensor(shape ...int) *Tensor {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("engine: NewTensor: negative dimension in %v", shape))
		}
		n *= d
	}
	return &Tensor{Shape: slices.Clone(shape), Data: make([]float64, n)}
}

// Clone returns a deep copy of t (nil for nil).
func (t *Tensor) Clone() *Tensor {
	if t == nil {
		return nil
	}
	return &Tensor{Shape: slices.Clone(t.Shape), Data: slices.Clone(t.Data)}
}

// Size is the number of elements.
func (t *Tensor) Size() int { return len(t.Data) }

// Zero sets every element to 0.
func (t *Tensor) Zero() { clear(t.Data) }

// Sample returns a copy of sample n of a batch tensor (N, ...) as a tensor
// of the per-sample shape (...).
func (t *Tensor) Sample(n int) *Tensor {
	per := len(t.Data) / t.Shape[0]
	return &Tensor{Shape: slices.Clone(t.Shape[1:]), Data: slices.Clone(t.Data[n*per : (n+1)*per])}
}

// sampleView is Sample without the copy: a view of sample n sharing t's
// memory.
func (t *Tensor) sampleView(n int) *Tensor {
	per := len(t.Data) / t.Shape[0]
	return &Tensor{Shape: t.Shape[1:len(t.Shape):len(t.Shape)], Data: t.Data[n*per : (n+1)*per : (n+1)*per]}
}

// resize makes t hold shape, reusing its backing array when it is large
// enough. Contents are unspecified afterwards. A nil t gets a new tensor.
func resize(t *Tensor, shape ...int) *Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if t == nil {
		return NewTensor(shape...)
	}
	if cap(t.Data) < n {
		t.Data = make([]float64, n)
	}
	t.Data = t.Data[:n]
	if !slices.Equal(t.Shape, shape) {
		t.Shape = append(t.Shape[:0], shape...)
	}
	return t
}
