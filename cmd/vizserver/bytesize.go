package main

import (
	"fmt"
	"strconv"
	"strings"
)

// byteSize is a flag of a number of bytes, written as a whole number with
// an optional unit: 1073741824, 512MiB, 2GiB, 1.5G (K, M, G, T and KiB, MiB,
// GiB, TiB are all powers of 1024 here).
type byteSize struct{ v *int64 }

var byteUnits = []struct {
	suffix string
	shift  uint
}{
	{"TIB", 40}, {"GIB", 30}, {"MIB", 20}, {"KIB", 10},
	{"TB", 40}, {"GB", 30}, {"MB", 20}, {"KB", 10},
	{"T", 40}, {"G", 30}, {"M", 20}, {"K", 10}, {"B", 0},
}

func (b byteSize) String() string {
	if b.v == nil {
		return ""
	}
	n := *b.v
	switch {
	case n > 0 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n > 0 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return strconv.FormatInt(n, 10)
}

func (b byteSize) Set(s string) error {
	u := strings.ToUpper(strings.TrimSpace(s))
	var shift uint
	for _, unit := range byteUnits {
		if num, ok := strings.CutSuffix(u, unit.suffix); ok {
			u, shift = strings.TrimSpace(num), unit.shift
			break
		}
	}
	f, err := strconv.ParseFloat(u, 64)
	if err != nil || f < 0 || f*float64(int64(1)<<shift) >= 1<<62 {
		return fmt.Errorf("%q: want a size like 2GiB, 512MiB or a number of bytes", s)
	}
	*b.v = int64(f * float64(int64(1)<<shift))
	return nil
}
