package store

import (
	"sync"

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// RequestRecorder records the API requests of a target's traced refreshes
// (Target.RefreshTraced). The target's client reports every request to
// Observe; only those made while a traced refresh runs are kept, and a
// target runs one refresh at a time, so they are that refresh's. A nil
// *RequestRecorder records nothing.
type RequestRecorder struct {
	mu      sync.Mutex
	active  bool
	events  []hwcloud.RequestEvent
	dropped int
}

// NewRequestRecorder returns a recorder that records nothing until a traced
// refresh starts.
func NewRequestRecorder() *RequestRecorder { return &RequestRecorder{} }

// Observe records e while a traced refresh runs; it is meant to be called
// by the API client after every HTTP attempt (vbs.Options.Observer).
func (r *RequestRecorder) Observe(e hwcloud.RequestEvent) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.active {
		return
	}
	if len(r.events) >= MaxTracedRequests {
		r.dropped++
		return
	}
	r.events = append(r.events, e)
}

// start begins recording a refresh.
func (r *RequestRecorder) start() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.active, r.events, r.dropped = true, nil, 0
}

// stop ends recording and returns what was recorded: the requests, and how
// many more there were beyond MaxTracedRequests.
func (r *RequestRecorder) stop() ([]hwcloud.RequestEvent, int) {
	if r == nil {
		return nil, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ev, n := r.events, r.dropped
	r.active, r.events, r.dropped = false, nil, 0
	if ev == nil {
		ev = []hwcloud.RequestEvent{}
	}
	return ev, n
}
