package protocol

import (
	"math"
	"strconv"
	"time"
)

// Trace frames are the binary websocket messages of docs/protocol.md:
//
//	offset 0   Magic, "BPV1"
//	offset 4   uint32 LE: length H of the JSON header (padded with spaces so 8+H is a multiple of 4)
//	offset 8   the JSON header (FrameHeader)
//	offset 8+H the payload: one tensor after another, each starting at a multiple of 4
//
// FrameEncoder writes them, DecodeFrame and DecodeHeader read them.
const Magic = "BPV1"

// FrameHeader is the JSON header of a trace frame.
type FrameHeader struct {
	Seq        uint64        `json:"seq"`
	Step       int           `json:"step"`
	Epoch      int           `json:"epoch"`
	Done       *Phase        `json:"done"` // null before the first phase of a step
	Next       *Phase        `json:"next"`
	Keyframe   bool          `json:"keyframe"`
	Exact      bool          `json:"exact"`
	Probe      bool          `json:"probe"`
	Sample     int           `json:"sample"` // −1 for the probe or before the step started
	Index      int           `json:"index"`  // index in the training set, −1 if none
	Label      int           `json:"label"`
	Prediction *int          `json:"prediction,omitempty"`
	Loss       *F32          `json:"loss,omitempty"`
	BatchLoss  *F32          `json:"batch_loss,omitempty"`
	Probs      []F32         `json:"probs,omitempty"`
	Tensors    []TensorEntry `json:"tensors"`
	// Published is the server's clock when the frame was published, Unix
	// milliseconds (absent if unknown): step-to-screen latency.
	Published int64 `json:"published_unix_ms,omitempty"`
	// History is set on a frame that shows a step of the session's
	// history instead of the live trainer (see Timeline).
	History *HistoryView `json:"history,omitempty"`
}

// TensorEntry locates one tensor in the payload of a frame.
type TensorEntry struct {
	Layer int    `json:"layer"` // −1 for the input image
	Kind  string `json:"kind"`  // one of Kinds
	Shape []int  `json:"shape"` // of the values carried: (To−From, H, W) for a channel range
	// Channels is [from, to) when only those channels of a (C, H, W) tensor
	// are carried; absent when all are.
	Channels  []int  `json:"channels,omitempty"`
	Enc       string `json:"enc"`    // EncF32, EncQ8 or EncI32
	Offset    int    `json:"offset"` // bytes from the start of the payload, a multiple of 4
	Length    int    `json:"length"` // bytes
	Min       *F32   `json:"min"`    // exact extremes of the finite values of the whole tensor (all channels); null if none
	Max       *F32   `json:"max"`
	Scale     *F32   `json:"scale,omitempty"`     // q8 only: max |v| of the whole tensor
	Nonfinite int    `json:"nonfinite,omitempty"` // NaN and ±Inf cells of the whole tensor
	// Stats are the whole tensor's colour-scale percentiles (float tensors);
	// Flat lists the maps carried whose values are all one value (a map of
	// zeros is dead); Maps holds each carried map's statistics when the
	// subscription asks for them (MapStats). Maps are counted from the
	// first carried one; see planeLen for what a map is.
	Stats *ScaleStats `json:"stats,omitempty"`
	Flat  []FlatMap   `json:"flat,omitempty"`
	Maps  []MapStats  `json:"maps,omitempty"`
}

// FrameMeta is what a frame says beyond the trace.
type FrameMeta struct {
	Seq      uint64
	Keyframe bool   // a fresh start: after connect, subscribe, pause, reset
	Exact    bool   // f32 for every float tensor; false allows q8
	Done     *Phase // nil before the first phase of a step
	Next     *Phase
	// Published is when the session published the frame (the end of the
	// phase it shows); zero leaves published_unix_ms out.
	Published time.Time
	// History marks a frame of a step of history (FrameHeader.History).
	History *HistoryView
}

// F32 is a number carried as float32 (the engine's float64 rounded), written
// in JSON with the shortest decimal that reads back as the same float32;
// NaN and ±Inf are written as null.
type F32 float32

// MarshalJSON implements json.Marshaler.
func (f F32) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 32), nil
}

// UnmarshalJSON implements json.Unmarshaler; null reads as NaN.
func (f *F32) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = F32(math.NaN())
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 32)
	if err != nil {
		return err
	}
	*f = F32(v)
	return nil
}

// F32Of is v as an F32, or nil if v is NaN or ±Inf (a field written as
// null).
func F32Of(v float64) *F32 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	f := F32(v)
	return &f
}
