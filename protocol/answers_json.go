package protocol

import (
	"strconv"
	"unicode/utf8"
)

// The long lists of the answers (an explanation's terms, a walk-through's
// steps) are written by hand: encoding/json spends most of an answer's time
// on their many small values. What they write is what encoding/json writes
// for the same fields (TestAnswersJSON holds the two equal).

// Terms are an explanation's terms, written as one JSON array.
type Terms []Term

// MarshalJSON implements json.Marshaler.
func (ts Terms) MarshalJSON() ([]byte, error) {
	if ts == nil {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 64+len(ts)*160)
	b = append(b, '[')
	for i := range ts {
		if i > 0 {
			b = append(b, ',')
		}
		b = ts[i].appendJSON(b)
	}
	return append(b, ']'), nil
}

func (t *Term) appendJSON(b []byte) []byte {
	b = append(b, `{"a":`...)
	b = t.A.appendJSON(b)
	b = append(b, `,"b":`...)
	if t.B == nil {
		b = append(b, "null"...)
	} else {
		b = t.B.appendJSON(b)
	}
	b = append(b, `,"product":`...)
	b = appendF64(b, float64(t.Product))
	b = append(b, `,"padding":`...)
	b = strconv.AppendBool(b, t.Padding)
	b = append(b, `,"winner":`...)
	b = strconv.AppendBool(b, t.Winner)
	b = append(b, `,"switch":`...)
	b = appendInts(b, t.Switch)
	b = append(b, `,"rotated":`...)
	b = appendInts(b, t.Rotated)
	b = append(b, `,"dilated":`...)
	b = appendInts(b, t.Dilated)
	return append(b, '}')
}

func (o *Operand) appendJSON(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, o.Name)
	b = append(b, `,"index":`...)
	b = appendInts(b, o.Index)
	b = append(b, `,"value":`...)
	b = appendF64(b, float64(o.Value))
	return append(b, '}')
}

// WalkSteps are a walk-through's steps, written as one JSON array.
type WalkSteps []WalkStep

// MarshalJSON implements json.Marshaler.
func (ss WalkSteps) MarshalJSON() ([]byte, error) {
	if ss == nil {
		return []byte("null"), nil
	}
	per := 32
	if len(ss) > 0 {
		per += 22 * (len(ss[0].Products) + len(ss[0].Sums) + len(ss[0].Taps))
	}
	b := make([]byte, 0, 2+len(ss)*per)
	b = append(b, '[')
	for i := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = ss[i].appendJSON(b)
	}
	return append(b, ']'), nil
}

func (s *WalkStep) appendJSON(b []byte) []byte {
	b = append(b, `{"at":`...)
	b = appendInts(b, s.At)
	if len(s.Products) > 0 {
		b = appendF64s(append(b, `,"products":`...), s.Products)
	}
	if len(s.Sums) > 0 {
		b = appendF64s(append(b, `,"sums":`...), s.Sums)
	}
	if len(s.Origin) > 0 {
		b = appendInts(append(b, `,"origin":`...), s.Origin)
	}
	if len(s.Taps) > 0 {
		b = appendF64s(append(b, `,"taps":`...), s.Taps)
	}
	if s.Partial != nil {
		b = appendF64(append(b, `,"partial":`...), float64(*s.Partial))
	}
	if s.Value != nil {
		b = appendF64(append(b, `,"value":`...), float64(*s.Value))
	}
	return append(b, '}')
}

// appendF64s appends [v,…] (null for nil).
func appendF64s(b []byte, xs []float64) []byte {
	if xs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendF64(b, v)
	}
	return append(b, ']')
}

// appendInts appends [i,…] (null for nil).
func appendInts(b []byte, xs []int) []byte {
	if xs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(v), 10)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json
// escapes it (HTML's <, > and & included).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
