package protocol

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// MetricsPoint is one optimizer step of the loss chart, written as
// [step, loss, train_acc].
type MetricsPoint struct {
	Step     int
	Loss     float64 // mean loss of the step's batch
	TrainAcc float64 // running training accuracy after the step; NaN if none
}

// TestPoint is one test-accuracy measurement, written as [step, acc].
type TestPoint struct {
	Step int
	Acc  float64
}

// Metrics is the "metrics" message: chart points to append, or with Reset
// the whole history. Numbers are float32; null reads as NaN.
type Metrics struct {
	Type   string         `json:"type"` // TypeMetrics
	V      int            `json:"v"`
	Reset  bool           `json:"reset"` // clear the charts first
	Points []MetricsPoint `json:"points"`
	Test   []TestPoint    `json:"test"`
}

// AppendMetrics appends the metrics message
// {"type":"metrics","v":1,"reset":r,"points":[[step,loss,acc],…],"test":[[step,acc],…]}
// to b. It writes by hand: a chart history can hold thousands of points.
func AppendMetrics(b []byte, reset bool, points []MetricsPoint, tests []TestPoint) []byte {
	b = append(b, `{"type":"metrics","v":1,"reset":`...)
	b = strconv.AppendBool(b, reset)
	b = append(b, `,"points":`...)
	b = appendList(b, points, func(b []byte, p MetricsPoint) []byte {
		b = strconv.AppendInt(b, int64(p.Step), 10)
		b = appendF32(append(b, ','), p.Loss)
		return appendF32(append(b, ','), p.TrainAcc)
	})
	b = append(b, `,"test":`...)
	b = appendList(b, tests, func(b []byte, p TestPoint) []byte {
		b = strconv.AppendInt(b, int64(p.Step), 10)
		return appendF32(append(b, ','), p.Acc)
	})
	return append(b, '}')
}

// appendList appends [[item],[item],…], each item written by add.
func appendList[T any](b []byte, xs []T, add func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(add(append(b, '['), x), ']')
	}
	return append(b, ']')
}

func appendF32(b []byte, v float64) []byte {
	// A finite float64 beyond float32's range rounds to ±Inf, which JSON
	// cannot carry either: null, like NaN and ±Inf.
	if f := float64(float32(v)); math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 32)
}

// UnmarshalJSON reads [step, loss, train_acc].
func (p *MetricsPoint) UnmarshalJSON(b []byte) error {
	var loss, acc F32
	if err := unmarshalPoint(b, &p.Step, &loss, &acc); err != nil {
		return fmt.Errorf("metrics point %s: %w", b, err)
	}
	p.Loss, p.TrainAcc = float64(loss), float64(acc)
	return nil
}

// UnmarshalJSON reads [step, acc].
func (p *TestPoint) UnmarshalJSON(b []byte) error {
	var acc F32
	if err := unmarshalPoint(b, &p.Step, &acc); err != nil {
		return fmt.Errorf("test point %s: %w", b, err)
	}
	p.Acc = float64(acc)
	return nil
}

// unmarshalPoint reads a list of an integer and len(vals) numbers (or
// nulls).
func unmarshalPoint(b []byte, step *int, vals ...*F32) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if len(raw) != 1+len(vals) {
		return fmt.Errorf("%d items, want %d", len(raw), 1+len(vals))
	}
	if err := json.Unmarshal(raw[0], step); err != nil {
		return err
	}
	for i, v := range vals {
		if err := json.Unmarshal(raw[1+i], v); err != nil {
			return err
		}
	}
	return nil
}
