package protocol

import (
	"strings"
	"testing"
)

func TestPromptSpecCheck(t *testing.T) {
	good := []PromptSpec{
		{Kind: PromptPoolSwitch, Layer: 2, Channel: 1, Row: 3, Col: 4},
		{Kind: PromptClass},
		{Kind: PromptChoice, Options: []string{"up", "down"}, Answer: 1},
		{Kind: PromptChoice, Options: []string{"a", "b", "c"}, Answer: -1},
	}
	for _, p := range good {
		if err := p.Check(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	bad := map[string]PromptSpec{
		"kind":        {Kind: "guess"},
		"negative":    {Kind: PromptConvReach, Row: -1},
		"options":     {Kind: PromptClass, Options: []string{"a", "b"}},
		"2 to 8":      {Kind: PromptChoice, Options: []string{"only"}},
		"answer 5":    {Kind: PromptChoice, Options: []string{"a", "b"}, Answer: 5},
		"empty":       {Kind: PromptChoice, Options: []string{"a", ""}},
		"at most 500": {Kind: PromptClass, Question: strings.Repeat("x", 501)},
	}
	for want, p := range bad {
		err := p.Check()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: err %v, want one naming %q", p, err, want)
		}
	}
}
