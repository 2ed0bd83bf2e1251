package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// The forks of every room share one budget of optimizer steps per second
// (ClassroomConfig.ForkBudget): each fork plays at most at ForkRate, and
// all of them together at most at ForkBudget, so that a whole class
// playing its forks at once leaves the room, its pages and the teacher's
// actions the CPU they need. A fork whose step waits for the budget says
// so in its state (fork_shared), and the page tells its student once.

// forkBudget hands out the forks' steps.
type forkBudget struct {
	lim   *rate.Limiter
	waits prometheus.Counter
}

func newForkBudget(perSecond float64, reg prometheus.Registerer) *forkBudget {
	b := &forkBudget{
		// a tenth of a second's steps at once: forks that start together
		// start at once
		lim: rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond/10))),
		waits: prometheus.NewCounter(prometheus.CounterOpts{Name: "bpv_fork_budget_waits_total",
			Help: "Steps of forks that waited for the forks' shared budget of steps per second (-fork-budget)."}),
	}
	reg.MustRegister(b.waits)
	return b
}

// reserve takes one step of the budget and returns when it may start.
func (b *forkBudget) reserve(now time.Time) time.Time {
	d := b.lim.ReserveN(now, 1).DelayFrom(now)
	if d > 0 {
		b.waits.Inc()
	}
	return now.Add(d)
}

// budgetWait is how long a fork's step, due now by its own speed, waits
// for the shared budget (its reservation is kept until the step starts:
// see advance). A change between waiting and not is published.
func (s *session) budgetWait(now time.Time) time.Duration {
	if s.budgetAt.IsZero() {
		s.budgetAt = s.srv.class.forkBudget.reserve(now)
		if shared := s.budgetAt.After(now); shared != s.forkShared {
			s.forkShared = shared
			s.publishState()
		}
	}
	return s.budgetAt.Sub(now)
}
