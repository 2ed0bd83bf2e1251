package engine

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fusedOp matches a fused multiply-add in the compiler's assembly listing
// on every architecture: FMADDD, FNMSUBD (arm64, riscv64, loong64), FMADD
// (ppc64, s390x), VFMADD231SD (amd64 at GOAMD64=v3).
var fusedOp = regexp.MustCompile(`\tV?FN?M(ADD|SUB)\w*\t`)

// sourceLine matches the position of an instruction: (/path/file.go:123).
var sourceLine = regexp.MustCompile(`\((/[^)]*\.go):(\d+)\)`)

// TestNoFusedMultiplyAdd compiles the engine and its dataset package for
// the architectures whose compiler fuses x*y + z into one instruction
// (rounded once instead of twice) wherever it can, and fails on every such
// instruction that is not an explicit math.FMA: an implicit fusion gives
// other numbers than amd64 at GOAMD64=v1, which never fuses, so a saved
// network or a replay would not continue bit for bit on another machine.
// The fix is an explicit conversion, x += float64(a*b), which rounds the
// product.
func TestNoFusedMultiplyAdd(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the package for other architectures")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	for _, env := range [][]string{{"GOARCH=arm64"}, {"GOARCH=amd64", "GOAMD64=v3"}} {
		cmd := exec.Command(goTool, "build", "-gcflags=-S", "-o", os.DevNull, ".", "./dataset")
		cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0"), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s go build: %v\n%s", env, err, out)
		}
		var fused []string
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if !fusedOp.MatchString(line) {
				continue
			}
			m := sourceLine.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("%s: a fused multiply-add without a source line: %s", env, line)
				continue
			}
			n, _ := strconv.Atoi(m[2])
			src := sourceText(t, m[1], n)
			if strings.Contains(src, "math.FMA(") {
				continue
			}
			if pos := m[1] + ":" + m[2]; !slices.Contains(fused, pos) {
				fused = append(fused, pos)
				t.Errorf("%s: %s fuses a multiply-add: %s", env, pos, strings.TrimSpace(src))
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// sourceText returns line n (1-based) of file.
func sourceText(t *testing.T, file string, n int) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if n < 1 || n > len(lines) {
		t.Fatalf("%s has no line %d", file, n)
	}
	return lines[n-1]
}
