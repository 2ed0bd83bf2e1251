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

func TestPromptPickCheck(t *testing.T) {
	one, nine := 1, 9
	good := []struct {
		kind string
		n    int
		pick PromptPick
	}{
		{PromptPoolSwitch, 4, PromptPick{Choice: &one}},
		{PromptConvReach, 144, PromptPick{Cells: []int{0, 143}}},
		{PromptConvReach, 144, PromptPick{}},
		{PromptWeightSign, 4, PromptPick{Sign: SignNone, Size: &one}},
	}
	for _, c := range good {
		if err := c.pick.CheckPick(c.kind, c.n); err != nil {
			t.Errorf("%s %+v: %v", c.kind, c.pick, err)
		}
	}
	bad := []struct {
		kind string
		n    int
		pick PromptPick
		want string
	}{
		{PromptClass, 5, PromptPick{}, "choose one of the 5"},
		{PromptChoice, 2, PromptPick{Choice: &nine}, "choose one of the 2"},
		{PromptConvReach, 144, PromptPick{Cells: []int{144}}, "outside the input's 144 cells"},
		{PromptWeightSign, 4, PromptPick{Sign: "sideways", Size: &one}, "sign"},
		{PromptWeightSign, 4, PromptPick{Sign: SignUp, Size: &nine}, "how much"},
	}
	for _, c := range bad {
		if err := c.pick.CheckPick(c.kind, c.n); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: %v, want an error with %q", c.kind, c.pick, err, c.want)
		}
	}
	for _, c := range []struct {
		d    float64
		want int
	}{{0, 0}, {-5e-5, 0}, {1e-4, 1}, {-0.0009, 1}, {0.005, 2}, {0.01, 3}, {-2, 3}} {
		if got := WeightBucket(c.d); got != c.want {
			t.Errorf("WeightBucket(%v) = %d, want %d", c.d, got, c.want)
		}
	}
}
