package dataset

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
)

func TestShapesDeterministic(t *testing.T) {
	a, at := Shapes(42, 200, 50)
	b, bt := Shapes(42, 200, 50)
	c, _ := Shapes(43, 200, 50)
	if !bytes.Equal(a.pix, b.pix) || !bytes.Equal(a.labels, b.labels) || !bytes.Equal(at.pix, bt.pix) {
		t.Error("Shapes(42) twice gave different bytes")
	}
	if bytes.Equal(a.pix, c.pix) || bytes.Equal(a.labels, c.labels) {
		t.Error("Shapes(42) and Shapes(43) gave the same bytes")
	}
	if bytes.Equal(a.pix[:len(at.pix)], at.pix) {
		t.Error("train and test sets start with the same images")
	}
}

func TestShapesBalanceAndRange(t *testing.T) {
	tests := []struct{ nTrain, nTest int }{{1003, 7}, {5, 1}, {250, 50}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.nTrain, "/", tt.nTest), func(t *testing.T) {
			train, test := Shapes(1, tt.nTrain, tt.nTest)
			for _, s := range []*Set{train, test} {
				if !slices.Equal(s.Shape(), []int{1, ShapesSide, ShapesSide}) || s.NumClasses() != 5 {
					t.Fatalf("%s: Shape %v, NumClasses %d, want [1 12 12], 5", s.Name(), s.Shape(), s.NumClasses())
				}
				counts := make([]int, s.NumClasses())
				dst := make([]float64, ShapesSide*ShapesSide)
				for i := range s.Len() {
					counts[s.Image(i, dst)]++
					for j, v := range dst {
						if v < 0 || v > 1 {
							t.Fatalf("%s.Image(%d)[%d] = %v, want in [0, 1]", s.Name(), i, j, v)
						}
					}
				}
				lo, hi := s.Len()/5, (s.Len()+4)/5
				for k, c := range counts {
					if c < lo || c > hi {
						t.Errorf("%s: %d samples of %s out of %d, want %d … %d", s.Name(), c, ShapesClasses[k], s.Len(), lo, hi)
					}
				}
			}
		})
	}
}

// TestShapesPictures checks that every image shows its class: pixels are
// either background (≤ 0.1) or ink (≥ 0.7), and the ink forms the figure.
func TestShapesPictures(t *testing.T) {
	train, _ := Shapes(9, 2000, 1)
	const s = ShapesSide
	for i := range train.Len() {
		p := train.Pixels(i)
		ink := func(x, y int) bool { return p[y*s+x] >= 178 }
		x0, y0, x1, y1, n := s, s, -1, -1, 0 // bounding box of the ink
		for y := range s {
			for x := range s {
				if v := p[y*s+x]; v > 26 && v < 178 {
					t.Fatalf("image %d pixel (%d, %d) = %d, neither background nor ink", i, x, y, v)
				}
				if ink(x, y) {
					x0, y0, x1, y1, n = min(x0, x), min(y0, y), max(x1, x), max(y1, y), n+1
				}
			}
		}
		w, h := x1-x0+1, y1-y0+1
		class := ShapesClasses[train.Label(i)]
		var ok bool
		switch class {
		case "horizontal":
			ok = w >= 6 && h <= 2 && n == w*h
		case "vertical":
			ok = h >= 6 && w <= 2 && n == w*h
		case "diagonal": // every row holds 1 or 2 ink pixels, shifting by one column a row
			ok = h >= 6 && w >= h && w <= h+1 && (n == h || n == 2*h)
		case "cross": // the centre row and column are full, the corners are empty
			ok = w == h && w >= 5 && !ink(x0, y0) && !ink(x1, y1) && ink(x0, (y0+y1)/2) && ink((x0+x1)/2, y0)
		case "box": // the border is full, the centre is empty
			ok = w >= 6 && h >= 6 && !ink((x0+x1)/2, (y0+y1)/2)
			for x := x0; x <= x1; x++ {
				ok = ok && ink(x, y0) && ink(x, y1)
			}
			for y := y0; y <= y1; y++ {
				ok = ok && ink(x0, y) && ink(x1, y)
			}
		}
		if !ok {
			t.Errorf("image %d (%s): ink %d pixels in a %d×%d box at (%d, %d), not a %s", i, class, n, w, h, x0, y0, class)
		}
	}
}

func TestSetImagePanics(t *testing.T) {
	train, _ := Shapes(1, 5, 1)
	tests := []struct {
		name string
		i    int
		dst  []float64
	}{
		{"index past end", 5, make([]float64, 144)},
		{"negative index", -1, make([]float64, 144)},
		{"short dst", 0, make([]float64, 143)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Image(%d, len %d) did not panic", tt.i, len(tt.dst))
				}
			}()
			train.Image(tt.i, tt.dst)
		})
	}
}
