package protocol

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Frame is a decoded trace frame.
type Frame struct {
	Header  FrameHeader
	Tensors []FrameTensor
}

// FrameTensor is one decoded tensor: F32 holds f32 values or dequantized q8
// values (q/127·scale), I32 the switches.
type FrameTensor struct {
	TensorEntry
	F32 []float32
	I32 []int32
}

// Tensor returns the tensor of layer and kind, or nil.
func (f *Frame) Tensor(layer int, kind string) *FrameTensor {
	for i := range f.Tensors {
		if t := &f.Tensors[i]; t.Layer == layer && t.Kind == kind {
			return t
		}
	}
	return nil
}

// DecodeHeader parses the header of a binary trace frame and returns it
// with the frame's payload (the bytes its TensorEntry offsets count from).
// It checks the magic and the header, not the tensors.
func DecodeHeader(b []byte) (h FrameHeader, payload []byte, err error) {
	if len(b) < 8 || string(b[:4]) != Magic {
		return h, nil, errors.New("decode frame: bad magic")
	}
	hlen := int(binary.LittleEndian.Uint32(b[4:]))
	if hlen > len(b)-8 {
		return h, nil, fmt.Errorf("decode frame: header length %d past the end (%d bytes)", hlen, len(b))
	}
	if err := json.Unmarshal(b[8:8+hlen], &h); err != nil {
		return h, nil, fmt.Errorf("decode frame header: %w", err)
	}
	return h, b[8+hlen:], nil
}

// DecodeFrame parses a binary trace frame. It checks the magic, the header
// and that every tensor lies within the payload with the length its shape
// and encoding need.
func DecodeFrame(b []byte) (*Frame, error) {
	h, payload, err := DecodeHeader(b)
	if err != nil {
		return nil, err
	}
	f := &Frame{Header: h}
	for _, ent := range f.Header.Tensors {
		n := 1
		for _, d := range ent.Shape {
			n *= d
		}
		width := 4
		if ent.Enc == EncQ8 {
			width = 1
		}
		if ent.Length != n*width || ent.Offset < 0 || ent.Offset+ent.Length > len(payload) {
			return nil, fmt.Errorf("decode frame: tensor %d:%s: %d bytes at %d, want %d within %d", ent.Layer, ent.Kind, ent.Length, ent.Offset, n*width, len(payload))
		}
		src := payload[ent.Offset : ent.Offset+ent.Length]
		t := FrameTensor{TensorEntry: ent}
		switch ent.Enc {
		case EncF32:
			t.F32 = make([]float32, n)
			for j := range t.F32 {
				t.F32[j] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*j:]))
			}
		case EncI32:
			t.I32 = make([]int32, n)
			for j := range t.I32 {
				t.I32[j] = int32(binary.LittleEndian.Uint32(src[4*j:]))
			}
		case EncQ8:
			s := float32(0)
			if ent.Scale != nil {
				s = float32(*ent.Scale) / 127
			}
			t.F32 = make([]float32, n)
			for j := range t.F32 {
				t.F32[j] = float32(int8(src[j])) * s
			}
		default:
			return nil, fmt.Errorf("decode frame: tensor %d:%s: unknown encoding %q", ent.Layer, ent.Kind, ent.Enc)
		}
		f.Tensors = append(f.Tensors, t)
	}
	return f, nil
}
