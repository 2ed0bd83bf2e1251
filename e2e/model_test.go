package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// download clicks the Download button with the browser's downloads going
// into a new directory and returns the file that arrives there.
func download(t *testing.T, p *labPage) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(p.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatalf("set the download directory: %v", err)
	}
	p.do("open the Model controls", chromedp.Evaluate[chromedp.Void](`document.getElementById('model-controls').open = true`))
	p.click("model-download")
	// Poll the directory (bounded) for the finished file.
	for range 300 {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		if len(files) == 1 {
			if b, err := os.ReadFile(files[0]); err == nil && json.Valid(b) {
				return files[0], b
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no model downloaded into %s", dir)
	return "", nil
}

// TestModelDownloadLoadInBrowser downloads the model of a lab that has
// trained three steps, loads the file into a new lab (on another data set)
// with the Load control, and finds the same model there, bit for bit; a
// file that is not a model is refused with its reason and changes nothing.
func TestModelDownloadLoadInBrowser(t *testing.T) {
	base := startLab(t)
	p := openBrowser(t, 1200, 800)
	p.do("open lab A", chromedp.Navigate(base+"/?data=shapes&seed=3&batch=4&spec=conv(2,3,s1,p1)+relu+maxpool(2,s2,p0)+dense(5)"))
	p.waitFor("the first state", `document.getElementById('step-count').textContent === '0' && /step 0$/.test(document.getElementById('phase').textContent)`)
	for _, want := range []string{"1", "2", "3"} {
		p.click("step-batch")
		p.waitFor("step "+want, `document.getElementById('step-count').textContent === '`+want+`'`)
	}
	path, model := download(t, p)
	if filepath.Base(path) != "backpropviz-shapes-step3.json" {
		t.Errorf("downloaded %s, want backpropviz-shapes-step3.json", filepath.Base(path))
	}

	// a new lab on MNIST, in a new tab of the browser's
	p.do("open lab B", chromedp.Navigate(base+"/?data=mnist&seed=8"))
	p.waitFor("lab B's first state", `/step 0$/.test(document.getElementById('phase').textContent) && document.getElementById('seed-shown').textContent === '8' && document.getElementById('data').value === 'mnist'`)

	// a file that is not a model: refused, lab B unchanged
	bad := filepath.Join(t.TempDir(), "notes.json")
	if err := os.WriteFile(bad, []byte(`{"format":"backpropviz-model","version":1,"spec":"conv(`), 0o644); err != nil {
		t.Fatal(err)
	}
	p.do("load a truncated file", chromedp.SetUploadFiles(chromedp.ID("model-upload"), []string{bad}))
	p.waitFor("the refusal", `!document.getElementById('alert-box').hidden && document.getElementById('alert').textContent.includes('truncated')`)
	if got := p.text("seed-shown"); got != "8" {
		t.Errorf("seed after a refused load = %q, want 8 (lab B unchanged)", got)
	}

	p.do("load the downloaded model", chromedp.SetUploadFiles(chromedp.ID("model-upload"), []string{path}))
	p.waitFor("the loaded model", `document.getElementById('alert').textContent.includes('Model loaded') && document.getElementById('step-count').textContent === '3' && document.getElementById('seed-shown').textContent === '3'`)
	p.waitFor("the URL of the loaded lab", `location.search.includes('data=shapes')`)
	_, again := download(t, p)
	if !bytes.Equal(again, model) {
		t.Errorf("lab B's model after the load differs from the file (%d and %d bytes)", len(again), len(model))
	}
	if !strings.Contains(string(model), `"step":3`) {
		t.Errorf("the downloaded model is not at step 3")
	}
	p.checkClean()
}
