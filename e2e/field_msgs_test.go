package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/backpropviz/backpropviz/protocol"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// overlaps lists, on the page p, the field messages shown that overlap
// another control (a field, a button, a summary, another message), and
// those not under their own field.
const overlaps = `(() => {
	const shown = (e) => e.offsetParent !== null && e.getBoundingClientRect().width > 0;
	const msgs = [...document.querySelectorAll('.field-msg')].filter((m) => m.textContent !== '' && shown(m));
	const others = [...document.querySelectorAll('.controls input, .controls select, .controls button, .controls summary, .controls .lr-now, .field-msg')].filter(shown);
	const cut = (a, b) => Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left)) * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
	const bad = [];
	for (const m of msgs) {
		const r = m.getBoundingClientRect();
		for (const o of others) {
			if (o === m || !o.textContent && o.tagName === 'SPAN') continue;
			if (cut(r, o.getBoundingClientRect()) > 0.5) bad.push(m.id + ' over ' + (o.id || o.tagName + '.' + o.className));
		}
		const f = m.closest('.field').querySelector('input').getBoundingClientRect();
		if (r.top < f.bottom - 0.5 || r.right <= f.left || r.left >= f.right) bad.push(m.id + ' not under its field');
	}
	return bad;
})()`

// TestFieldMessagesInFlow (1440×900): refused values in several fields of
// the optimizer at once: each message sits under its own field, over
// nothing (the Test accuracy button, another message, another field), and
// says the value kept; it goes when the field's value is typed back or
// another is accepted. Text that is no number (letters, 1e400, NaN) in a
// number field is said under it ("learning rate: type a number"), the
// field shows the value in effect again, and nothing is sent.
func TestFieldMessagesInFlow(t *testing.T) {
	p := openShapes(t, 1440, 900, "")
	tap := tapStates(t, p)
	before := eval[string](p, `document.getElementById('lr').value`)
	for _, f := range [][2]string{{"lr", "-1"}, {"beta1", "2"}, {"beta2", "5"}, {"eps", "-1"}, {"wd", "-3"}} {
		typeInto(p, f[0], f[1])
		p.waitFor("the refusal under "+f[0], fmt.Sprintf(`document.getElementById('%s-msg').textContent !== ''`, f[0]))
	}
	shot(p, "field-messages.png")
	if bad := eval[[]string](p, overlaps); len(bad) > 0 {
		t.Errorf("field messages overlap or stray: %v", bad)
	}
	if msg := eval[string](p, `document.getElementById('lr-msg').textContent`); !strings.Contains(msg, "learning rate -1") || !strings.Contains(msg, "(still "+before+")") {
		t.Errorf("lr's message %q, want the server's refusal and the value kept %s", msg, before)
	}
	if got := eval[string](p, `document.getElementById('lr').value`); got != before {
		t.Errorf("the refused learning rate's field shows %q, want the value in effect %q", got, before)
	}
	// the value kept typed back: its message goes; an accepted value: its message goes
	typeInto(p, "lr", before)
	p.waitFor("lr's message gone", `document.getElementById('lr-msg').textContent === ''`)
	// a refused value sent with Enter, the field keeping the focus: the
	// field shows the value in effect at once, as its message says
	x, y := center(p, "lr")
	p.do("type -2 into lr and press Enter", chromedp.MouseClickXY(x, y),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('lr').select()`),
		chromedp.KeyEvent("-2"), chromedp.KeyEvent(kb.Enter))
	p.waitFor("the refusal of -2 under lr", `document.getElementById('lr-msg').textContent.includes('-2')`)
	if got := eval[[]string](p, `[document.getElementById('lr').value, document.activeElement.id]`); got[0] != before || got[1] != "lr" {
		t.Errorf("after a refused lr sent with Enter the field shows %q (focus on %q), want the value in effect %q, focused", got[0], got[1], before)
	}
	typeInto(p, "lr", before)
	p.waitFor("lr's message gone again", `document.getElementById('lr-msg').textContent === ''`)
	typeInto(p, "beta1", "0.8")
	waitHyper(p, tap, "β1 0.8", func(h protocol.Hyper) bool { return h.Beta1 == 0.8 })
	p.waitFor("β1's message gone", `document.getElementById('beta1-msg').textContent === ''`)
	if bad := eval[[]string](p, overlaps); len(bad) > 0 {
		t.Errorf("field messages overlap or stray: %v", bad)
	}

	// text that is no number: said, not sent, the value in effect kept
	lr := tap.last().LR
	seed := eval[string](p, `document.getElementById('seed').value`)
	for _, tc := range []struct{ id, text, want, kept string }{
		{"lr", "abc", "learning rate: type a number", before},
		// the browser keeps 1e400 out of the field's value as it keeps letters
		{"lr", "1e400", "learning rate: type a number", before},
		{"seed", "garbage", "seed: type a whole number", seed},
		{"wd", "NaN", "weight decay λ: type a number", "0"},
	} {
		typeInto(p, tc.id, tc.text)
		p.waitFor(tc.id+"'s message", fmt.Sprintf(`document.getElementById('%s-msg').textContent !== ''`, tc.id))
		if got := eval[string](p, fmt.Sprintf(`document.getElementById('%s-msg').textContent`, tc.id)); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%q typed into %s: message %q, want %q", tc.text, tc.id, got, tc.want)
		}
		if got := eval[string](p, fmt.Sprintf(`document.getElementById(%q).value`, tc.id)); got != tc.kept {
			t.Errorf("%q typed into %s: the field shows %q, want the value in effect %q", tc.text, tc.id, got, tc.kept)
		}
	}
	if bad := eval[[]string](p, overlaps); len(bad) > 0 {
		t.Errorf("field messages overlap or stray: %v", bad)
	}
	if h := tap.last(); h.LR != lr || h.WD != 0 {
		t.Errorf("after text that is no number the server has lr %v, wd %v; want %v and 0", h.LR, h.WD, lr)
	}
	// a number typed again: the message goes
	typeInto(p, "lr", "0.01")
	waitHyper(p, tap, "lr 0.01", func(h protocol.Hyper) bool { return h.LR == 0.01 })
	p.waitFor("lr's message gone", `document.getElementById('lr-msg').textContent === ''`)
	p.checkClean()
}
