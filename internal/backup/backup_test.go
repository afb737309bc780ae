package backup

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestStatusOrderAndLabels(t *testing.T) {
	// The order is the order of the status label in vbs_policy_jobs and
	// vbs_resource_last_status: it must stay exactly this.
	want := []string{"RUNNING", "WAITING", "EXECUTE_SUCCESS", "EXECUTE_FAIL", "EXECUTE_TIMEOUT", "SKIP", "UNKNOWN"}
	var got []string
	for _, s := range Statuses() {
		got = append(got, s.String())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Statuses() = %v, want %v", got, want)
	}
	var fin []string
	for _, s := range FinishedStatuses() {
		fin = append(fin, s.String())
	}
	if w := want[2:6]; !slices.Equal(fin, w) {
		t.Fatalf("FinishedStatuses() = %v, want %v", fin, w)
	}
	if got := Status(200).String(); got != "UNKNOWN" {
		t.Errorf("Status(200).String() = %q, want UNKNOWN", got)
	}
	for i, l := range want {
		s, ok := ParseStatus(l)
		if !ok || s != Status(i) {
			t.Errorf("ParseStatus(%q) = %v, %v; want %v, true", l, s, ok, Status(i))
		}
	}
	if s, ok := ParseStatus("success"); ok || s != StatusUnknown {
		t.Errorf(`ParseStatus("success") = %v, %v; want UNKNOWN, false`, s, ok)
	}
}

func TestStatusClasses(t *testing.T) {
	for _, tc := range []struct {
		s                      Status
		terminal, open, failed bool
	}{
		{StatusRunning, false, true, false},
		{StatusWaiting, false, true, false},
		{StatusSuccess, true, false, false},
		{StatusFail, true, false, true},
		{StatusTimeout, true, false, true},
		{StatusSkip, true, false, false},
		{StatusUnknown, false, true, false},
	} {
		if tc.s.Terminal() != tc.terminal || tc.s.Open() != tc.open || tc.s.Failed() != tc.failed {
			t.Errorf("%v: Terminal/Open/Failed = %v/%v/%v, want %v/%v/%v", tc.s,
				tc.s.Terminal(), tc.s.Open(), tc.s.Failed(), tc.terminal, tc.open, tc.failed)
		}
	}
}

func TestJobDuration(t *testing.T) {
	t0 := time.Date(2025, 6, 2, 2, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		j    Job
		want time.Duration
	}{
		{"started", Job{Created: t0, Started: t0.Add(time.Minute), Finished: t0.Add(10 * time.Minute)}, 9 * time.Minute},
		{"no start falls back to created", Job{Created: t0, Finished: t0.Add(10 * time.Minute)}, 10 * time.Minute},
		{"unfinished", Job{Created: t0, Started: t0}, 0},
		{"no times", Job{Finished: t0}, 0},
		{"negative", Job{Started: t0, Finished: t0.Add(-time.Second)}, 0},
	} {
		if got := tc.j.Duration(); got != tc.want {
			t.Errorf("%s: Duration() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

type fixed time.Duration

func (f fixed) ExpectedInterval() time.Duration { return time.Duration(f) }

func TestPolicyExpectedInterval(t *testing.T) {
	if got := (Policy{}).ExpectedInterval(); got != 0 {
		t.Errorf("no schedule: %v, want 0", got)
	}
	if got := (Policy{Schedule: fixed(time.Hour)}).ExpectedInterval(); got != time.Hour {
		t.Errorf("schedule: %v, want 1h", got)
	}
}

func TestWithKind(t *testing.T) {
	inner := &testErr{"list_policies: HTTP 401"}
	err := WithKind(ErrAuth, inner)
	if err.Error() != inner.Error() || !errors.Is(err, ErrAuth) || errors.Is(err, ErrNotFound) {
		t.Errorf("WithKind: %v", err)
	}
	var te *testErr
	if !errors.As(err, &te) || te != inner {
		t.Error("chain lost")
	}
	if WithKind(ErrAuth, nil) != nil {
		t.Error("nil not kept")
	}
}

type testErr struct{ s string }

func (e *testErr) Error() string { return e.s }
