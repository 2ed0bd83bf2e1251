package server

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backpropviz/backpropviz/engine/dataset"
	"github.com/backpropviz/backpropviz/protocol"
)

// idxBytes is an IDX file: magic, dimension sizes, body.
func idxBytes(magic uint32, dims []uint32, body []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	binary.Write(&b, binary.BigEndian, dims)
	b.Write(body)
	return b.Bytes()
}

// writeIDXDir writes a data set directory of n training and n test h×w
// images with labels i mod k, and classes.txt if classes is not "".
func writeIDXDir(t *testing.T, n, h, w, k int, classes string) string {
	t.Helper()
	dir := t.TempDir()
	pix := make([]byte, n*h*w)
	for i := range pix {
		pix[i] = byte(i * 37)
	}
	labels := make([]byte, n)
	for i := range labels {
		labels[i] = byte(i % k)
	}
	files := map[string][]byte{}
	for _, p := range []string{"train", "t10k"} {
		files[p+"-images-idx3-ubyte"] = idxBytes(0x803, []uint32{uint32(n), uint32(h), uint32(w)}, pix)
		files[p+"-labels-idx1-ubyte"] = idxBytes(0x801, []uint32{uint32(n)}, labels)
	}
	if classes != "" {
		files["classes.txt"] = []byte(classes)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A -dataset directory is checked when the server starts: every problem is
// refused with the data set's name, the file and what is wrong.
func TestDataDirValidatedAtStart(t *testing.T) {
	good := func(t *testing.T) string { return writeIDXDir(t, 6, 8, 8, 3, "a\nb\nc\n") }
	tests := []struct {
		name  string
		dirs  func(t *testing.T) []DataDir
		wants []string // in the error
	}{
		{"no such directory", func(t *testing.T) []DataDir {
			return []DataDir{{"mine", filepath.Join(t.TempDir(), "nothing")}}
		}, []string{"data set mine", "train-images-idx3-ubyte"}},
		{"a file missing", func(t *testing.T) []DataDir {
			dir := good(t)
			os.Remove(filepath.Join(dir, "t10k-labels-idx1-ubyte"))
			return []DataDir{{"mine", dir}}
		}, []string{"data set mine", "no t10k-labels-idx1-ubyte"}},
		{"truncated images", func(t *testing.T) []DataDir {
			dir := good(t)
			p := filepath.Join(dir, "train-images-idx3-ubyte")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)-10], 0o644)
			return []DataDir{{"mine", dir}}
		}, []string{"data set mine", "train-images-idx3-ubyte"}},
		{"labels file with an image magic", func(t *testing.T) []DataDir {
			dir := good(t)
			os.WriteFile(filepath.Join(dir, "t10k-labels-idx1-ubyte"), idxBytes(0x803, []uint32{6, 8, 8}, make([]byte, 6*64)), 0o644)
			return []DataDir{{"mine", dir}}
		}, []string{"data set mine", "t10k-labels-idx1-ubyte"}},
		{"fewer class names than labels", func(t *testing.T) []DataDir {
			dir := good(t)
			os.WriteFile(filepath.Join(dir, "classes.txt"), []byte("a\nb\n"), 0o644)
			return []DataDir{{"mine", dir}}
		}, []string{"data set mine", "label 2", "2 classes"}},
		{"a name in capitals", func(t *testing.T) []DataDir { return []DataDir{{"Mine", good(t)}} }, []string{`"Mine"`, "lowercase"}},
		{"a name taken", func(t *testing.T) []DataDir { return []DataDir{{"mnist", good(t)}} }, []string{`"mnist"`, "taken"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{DataConfig: DataConfig{DataDirs: tt.dirs(t)}}, nil)
			if err == nil {
				t.Fatalf("New accepted the data set")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestParseDataDir(t *testing.T) {
	if dd, err := ParseDataDir("kmnist=/data/k=m"); err != nil || dd != (DataDir{"kmnist", "/data/k=m"}) {
		t.Errorf("ParseDataDir = %+v, %v", dd, err)
	}
	for _, bad := range []string{"kmnist", "kmnist=", ""} {
		if _, err := ParseDataDir(bad); err == nil || !strings.Contains(err.Error(), "NAME=DIR") {
			t.Errorf("ParseDataDir(%q) error = %v, want NAME=DIR", bad, err)
		}
	}
}

// The data menu lists every data set; Fashion-MNIST without its files is
// listed, disabled, with the command that installs it.
func TestDataMenu(t *testing.T) {
	dir := writeIDXDir(t, 6, 8, 8, 3, "")
	srv, tsrv := newTestServer(t, Config{DataConfig: DataConfig{FashionDir: t.TempDir(), DataDirs: []DataDir{{"tiny", dir}}}})
	menu := srv.data.menu()
	var got []string
	for _, o := range menu {
		got = append(got, o.Value)
	}
	if strings.Join(got, " ") != "mnist shapes fashion tiny" {
		t.Errorf("menu %q, want mnist shapes fashion tiny", got)
	}
	if f := menu[2]; !f.Disabled || f.Label != "Fashion-MNIST: not installed (apt-get install dataset-fashion-mnist)" {
		t.Errorf("Fashion-MNIST entry %+v, want disabled, not installed", f)
	}
	if tiny := menu[3]; tiny.Disabled || tiny.Label != "tiny (8×8, 3 classes)" {
		t.Errorf("tiny entry %+v", tiny)
	}
	// a page that asks for it anyway is told why
	c := dial(t, tsrv, "")
	c.expect("welcome", nil)
	r := c.reply(c.cmd("set", map[string]any{"data": "fashion"}))
	if r.Type != "error" || r.Code != protocol.CodeInvalid || !strings.Contains(r.Message, "not installed") || !strings.Contains(r.Message, "apt-get install dataset-fashion-mnist") {
		t.Errorf("set data=fashion without the files: %+v", r)
	}
}

// Another data set whose input the network fits keeps the network; one it
// does not fit is refused with spec_change and the spec it would get, and
// nothing changes until the page sends that spec with the data.
func TestDataChangeKeepsOrAsksSpec(t *testing.T) {
	dir := writeIDXDir(t, 12, 12, 12, 5, "")
	_, ts := newTestServer(t, Config{DataConfig: DataConfig{FashionDir: t.TempDir(), DataDirs: []DataDir{{"twelve", dir}}}})
	c := dial(t, ts, "data=shapes&spec="+strings.ReplaceAll(tinySpec, " ", "+"))
	var w protocol.Welcome
	c.expect("welcome", &w)

	// shapes (1×12×12, 5 classes) → twelve (1×12×12, 5 classes): kept
	if r := c.reply(c.cmd("set", map[string]any{"data": "twelve"})); r.Type != "ack" {
		t.Fatalf("set data=twelve: %+v", r)
	}
	c.expect("welcome", &w)
	if w.Config.Data != "twelve" || w.Config.Spec != tinySpec {
		t.Errorf("after data=twelve: data %q spec %q, want twelve with the spec kept", w.Config.Data, w.Config.Spec)
	}
	if r := c.reply(c.cmd("step_batch", nil)); r.Type != "ack" {
		t.Fatalf("step_batch on twelve: %+v", r)
	}

	// twelve → mnist (1×28×28, 10 classes): dense(5) does not fit
	r := c.reply(c.cmd("set", map[string]any{"data": "mnist"}))
	if r.Type != "error" || r.Code != protocol.CodeSpecChange || r.Spec == "" || !strings.Contains(r.Message, r.Spec) {
		t.Fatalf("set data=mnist with dense(5): %+v, want spec_change naming the new spec", r)
	}
	var st testState
	if r := c.reply(c.cmd("step_batch", nil)); r.Type != "ack" {
		t.Fatalf("step_batch after the refusal: %+v", r)
	}
	c.expect("state", &st)
	if st.Step != 2 {
		t.Errorf("step after a refused data change = %d, want 2 (the session untouched)", st.Step)
	}
	if r2 := c.reply(c.cmd("set", map[string]any{"data": "mnist", "spec": r.Spec})); r2.Type != "ack" {
		t.Fatalf("set data=mnist with the offered spec: %+v", r2)
	}
	c.expect("welcome", &w)
	if w.Config.Data != protocol.DataMNIST || w.Config.Spec != r.Spec {
		t.Errorf("after confirming: data %q spec %q", w.Config.Data, w.Config.Spec)
	}
}

// A few steps on Fashion-MNIST through the websocket. CI installs Debian's
// dataset-fashion-mnist and sets REQUIRE_FASHION=1: then a missing package
// fails instead of skipping.
func TestTrainFashionMNIST(t *testing.T) {
	if !dataset.FashionMNISTInstalled(dataset.FashionMNISTDir) {
		if os.Getenv("REQUIRE_FASHION") == "1" {
			t.Fatalf("REQUIRE_FASHION=1 but Fashion-MNIST is not installed in %s", dataset.FashionMNISTDir)
		}
		t.Skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
	}
	_, ts := newTestServer(t, Config{})
	c := dial(t, ts, "data=fashion&batch=4")
	var w protocol.Welcome
	c.expect("welcome", &w)
	if w.Config.Data != protocol.DataFashion || len(w.Classes) != 10 || w.Classes[9] != "Ankle boot" {
		t.Fatalf("welcome: data %q classes %q", w.Config.Data, w.Classes)
	}
	var st testState
	for i := 1; i <= 3; i++ {
		if r := c.reply(c.cmd("step_batch", nil)); r.Type != "ack" {
			t.Fatalf("step_batch %d: %+v", i, r)
		}
		c.expect("state", &st)
	}
	if st.Step != 3 || st.Loss == nil || !(*st.Loss > 0) {
		t.Errorf("after 3 steps on Fashion-MNIST: step %d loss %v", st.Step, st.Loss)
	}
}

// A link to a data set this server lacks opens MNIST and says why.
func TestLabLinkToUnknownData(t *testing.T) {
	_, ts := newTestServer(t, Config{})
	c := dial(t, ts, "data=cifar&seed=5")
	var w protocol.Welcome
	c.expect("welcome", &w)
	if w.Config.Data != protocol.DataMNIST || w.Config.Seed != 5 {
		t.Errorf("data=cifar: data %q seed %d, want mnist with seed 5", w.Config.Data, w.Config.Seed)
	}
	var e protocol.Reply
	c.expect("error", &e)
	if !strings.Contains(e.Message, `data "cifar"`) || !strings.Contains(e.Message, "fashion") {
		t.Errorf("data=cifar: error %q, want it named with the server's data sets", e.Message)
	}
}
