package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/backpropviz/backpropviz/engine/dataset"
)

// TestFashionMNISTInBrowser picks Fashion-MNIST in the data menu of a lab
// whose network does not fit it: the page says first that the network will
// change, and once accepted the lab trains a few steps on Fashion-MNIST and
// names its classes. CI installs Debian's dataset-fashion-mnist and sets
// REQUIRE_FASHION=1, which turns a missing package into a failure.
func TestFashionMNISTInBrowser(t *testing.T) {
	if !dataset.FashionMNISTInstalled(dataset.FashionMNISTDir) {
		if os.Getenv("REQUIRE_FASHION") == "1" {
			t.Fatalf("REQUIRE_FASHION=1 but Fashion-MNIST is not installed in %s", dataset.FashionMNISTDir)
		}
		t.Skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
	}
	base := startLab(t)
	p := openBrowser(t, 1200, 800)
	// accept the page's question, and keep what it asked
	asked := make(chan string, 4)
	dialogs := chromedp.Events(p.ctx, page.JavascriptDialogOpening)
	go func() {
		for d, err := range dialogs {
			if err != nil {
				return
			}
			asked <- d.Message
			go chromedp.Call(p.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	p.do("open the lab", chromedp.Navigate(base+"/?data=shapes&batch=4&spec=conv(2,3,s1,p1)+relu+maxpool(2,s2,p0)+dense(5)"))
	p.waitFor("the first state", `document.getElementById('step-count').textContent === '0' && /step 0$/.test(document.getElementById('phase').textContent)`)
	opts := eval[[]string](p, `[...document.querySelectorAll('[data-testid=dataset] option')].map(o => o.value + (o.disabled ? ' (disabled)' : ''))`)
	if strings.Join(opts, ",") != "mnist,shapes,fashion" {
		t.Errorf("data menu %q, want mnist, shapes and fashion enabled", opts)
	}

	p.do("choose Fashion-MNIST", chromedp.SetValue(chromedp.CSS(`[data-testid=dataset]`), "fashion"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid=dataset]').dispatchEvent(new Event('change'))`))
	p.waitFor("Fashion-MNIST in the URL", `location.search.includes('data=fashion')`)
	select {
	case msg := <-asked:
		if !strings.Contains(msg, "does not fit fashion") || !strings.Contains(msg, "dense(10)") {
			t.Errorf("the page asked %q, want the network's change named", msg)
		}
	default:
		t.Errorf("the network changed without the page saying so first")
	}
	p.waitFor("the new network's spec", `document.getElementById('spec').value.includes('dense(10)')`)
	for _, want := range []string{"1", "2", "3"} {
		p.click("step-batch")
		p.waitFor("step "+want, `document.getElementById('step-count').textContent === '`+want+`'`)
	}
	p.waitFor("a loss", `document.getElementById('loss-now').textContent !== '—'`)
	p.waitFor("a Fashion-MNIST class named", `['T-shirt/top','Trouser','Pullover','Dress','Coat','Sandal','Shirt','Sneaker','Bag','Ankle boot'].some(c => document.querySelector('.sample-info').textContent.endsWith('label ' + c))`)
	p.checkClean()
}
