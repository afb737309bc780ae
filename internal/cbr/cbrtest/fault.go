package cbrtest

import (
	"net/url"
	"time"
)

// Fault makes matching requests fail or wait.
type Fault struct {
	// Op is the operation to match ("" matches every operation).
	Op string
	// Match, when set, must also report true for the request's query.
	Match func(q url.Values) bool
	// Status, when not 0, is answered instead of the real response, with
	// Code and Message in a CBR body (an API Gateway body when Code starts
	// with "APIGW."); Code defaults to BackupService.9910.
	Status  int
	Code    string
	Message string
	// Body, when not nil, is served as the response body (with Status, or
	// 200 when Status is 0) instead of the real response: a malformed or
	// truncated JSON document.
	Body []byte
	// Delay holds the response back (a slow server); with Status 0 the real
	// response follows.
	Delay time.Duration
	// IgnoreOffset serves a task list as if offset were 0 (a broken
	// server, or a proxy that drops the parameter).
	IgnoreOffset bool
	// Times is how many requests the fault applies to; 0 means always.
	Times int
}

type faultEntry struct {
	Fault
	id   int
	left int
}

// AddFault adds a fault and returns its id for RemoveFault. Faults are
// matched in the order added; the first match applies.
func (s *Server) AddFault(f Fault) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.faults = append(s.faults, &faultEntry{Fault: f, id: s.nextID, left: f.Times})
	return s.nextID
}

// RemoveFault removes a fault.
func (s *Server) RemoveFault(id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.id == id {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			return
		}
	}
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the first matching fault, counting it down. Called
// with s.mu held.
func (s *Server) takeFault(op string, q url.Values) *Fault {
	for i, f := range s.faults {
		if f.Op != "" && f.Op != op || f.Match != nil && !f.Match(q) {
			continue
		}
		out := f.Fault
		if f.Times > 0 {
			if f.left--; f.left <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
		}
		return &out
	}
	return nil
}
