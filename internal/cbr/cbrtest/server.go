package cbrtest

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Operation names, as used by Fault.Op and Requests.
const (
	// OpListOperationLogs is GET /v3/{project_id}/operation-logs.
	OpListOperationLogs = "list_operation_logs"
	// OpShowOperationLog is GET /v3/{project_id}/operation-logs/{id}.
	OpShowOperationLog = "show_operation_log"
	// OpListPolicies is GET /v3/{project_id}/policies.
	OpListPolicies = "list_policies"
	// OpListVaults is GET /v3/{project_id}/vaults.
	OpListVaults = "list_vaults"
	// OpOther is any request that matches no call (answered 404).
	OpOther = "other"
)

// Defaults of Options.
const (
	// DefaultProjectID is the project served.
	DefaultProjectID = "9c6a1f1e2b3d4c5e8f7a6b5c4d3e2f10"
	// DefaultAccessKey and DefaultSecretKey are the accepted AK/SK pair.
	DefaultAccessKey = "CBRDEMOACCESSKEY"
	DefaultSecretKey = "cbr-demo-secret-key"
	// DefaultMaxLimit is the largest task page (the API's documented 1000).
	DefaultMaxLimit = 1000
)

// Error codes the simulator answers with.
const (
	// CodeAuthFailed: a bad signature or token (401, API Gateway body).
	CodeAuthFailed = "APIGW.0301"
	// CodeThrottled: API Gateway throttling (for faults, 429).
	CodeThrottled = "APIGW.0308"
	// CodeAPINotFound: an unknown path or method (404).
	CodeAPINotFound = "APIGW.0101"
	// CodeNotAuthenticated: another project in the path (403).
	CodeNotAuthenticated = "BackupService.8600"
	// CodeInvalidParameter: a bad query parameter (400).
	CodeInvalidParameter = "BackupService.9900"
	// CodeLogNotFound: an unknown task (404).
	CodeLogNotFound = "BackupService.6500"
	// CodeInternal: the default code of a fault ("unknown error").
	CodeInternal = "BackupService.9910"
)

// Order is the order in which the task list is served.
type Order int

const (
	// NewestFirst sorts by created_at, then id, descending.
	NewestFirst Order = iota
	// OldestFirst is the reverse of NewestFirst.
	OldestFirst
	// Scrambled is a fixed order that follows no timestamp (by a hash of
	// the id): the API documents no order, so a client must not rely on one.
	Scrambled
)

// Options configures a Server; zero fields take the defaults.
type Options struct {
	// ProjectID is the only project served; default DefaultProjectID.
	ProjectID string
	// AccessKey and SecretKey are the accepted AK/SK pair; defaults
	// DefaultAccessKey and DefaultSecretKey.
	AccessKey string
	SecretKey string
	// SecurityToken, when set, must come with every signed request as
	// X-Security-Token (temporary AK/SK credentials).
	SecurityToken string
	// Tokens are accepted as X-Auth-Token.
	Tokens []string
	// SkipAuth accepts requests without credentials.
	SkipAuth bool
	// Now is the clock for X-Sdk-Date checks; default time.Now.
	Now func() time.Time
	// MaxLimit is the largest limit accepted; default 1000.
	MaxLimit int
	// Order of the task list; default NewestFirst.
	Order Order
	// TimeFilter is the task field start_time and end_time filter on:
	// "created_at" (default) or "updated_at" (undocumented which one the
	// real API uses, so a client must cope with both).
	TimeFilter string
}

// Server is the simulator. Create it with NewServer.
type Server struct {
	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	policies []Policy
	vaults   []Vault
	logs     map[string]*OperationLog
	sorted   []*OperationLog // by created_at, id ascending; nil when stale
	faults   []*faultEntry
	nextID   int
	onPage   func(q url.Values)
	counts   map[string]int
	queries  map[string][]url.Values
}

// NewServer starts a simulator on 127.0.0.1. Close it when done.
func NewServer(o Options) *Server {
	if o.ProjectID == "" {
		o.ProjectID = DefaultProjectID
	}
	if o.AccessKey == "" {
		o.AccessKey = DefaultAccessKey
	}
	if o.SecretKey == "" {
		o.SecretKey = DefaultSecretKey
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxLimit <= 0 {
		o.MaxLimit = DefaultMaxLimit
	}
	if o.TimeFilter == "" {
		o.TimeFilter = "created_at"
	}
	s := &Server{opts: o, logs: map[string]*OperationLog{}, counts: map[string]int{}, queries: map[string][]url.Values{}}
	s.srv = httptest.NewServer(s)
	return s
}

// URL is the endpoint, e.g. "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.srv.URL }

// Client is an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close stops the server.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Options returns the options with defaults filled in.
func (s *Server) Options() Options { return s.opts }

// Requests counts the requests of operation op since the last
// ResetCounters (every request, also refused ones).
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[op]
}

// TotalRequests counts all requests since the last ResetCounters.
func (s *Server) TotalRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.counts {
		n += c
	}
	return n
}

// Queries returns the decoded queries of the requests of op since the last
// ResetCounters, oldest first.
func (s *Server) Queries(op string) []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queries[op])
}

// ResetCounters zeroes Requests and clears Queries.
func (s *Server) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]int{}
	s.queries = map[string][]url.Values{}
}

// OnPage sets fn (nil: none) to run after each task-list page is computed
// and before it is sent, with the page's query. It runs without the
// server's lock, so it may call AddLogs, UpdateLog and RemoveLog.
func (s *Server) OnPage(fn func(q url.Values)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onPage = fn
}

// route names the operation of a request and the task id of the single-task
// call.
func (s *Server) route(r *http.Request) (op, project, id string) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method != http.MethodGet || len(segs) < 3 || segs[0] != "v3" {
		return OpOther, "", ""
	}
	project = segs[1]
	switch {
	case len(segs) == 3 && segs[2] == "operation-logs":
		return OpListOperationLogs, project, ""
	case len(segs) == 4 && segs[2] == "operation-logs" && segs[3] != "":
		return OpShowOperationLog, project, segs[3]
	case len(segs) == 3 && segs[2] == "policies":
		return OpListPolicies, project, ""
	case len(segs) == 3 && segs[2] == "vaults":
		return OpListVaults, project, ""
	}
	return OpOther, "", ""
}

type response struct {
	status int
	body   []byte
}

func cbrError(status int, code, msg string) response {
	b, _ := json.Marshal(map[string]string{"error_code": code, "error_msg": msg})
	return response{status, b}
}

func gatewayError(status int, code, msg, reqID string) response {
	b, _ := json.Marshal(map[string]string{"error_code": code, "error_msg": msg, "request_id": reqID})
	return response{status, b}
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("X-Request-Id", reqID)
	op, project, id := s.route(r)
	q, _ := url.ParseQuery(r.URL.RawQuery)
	s.mu.Lock()
	s.counts[op]++
	s.queries[op] = append(s.queries[op], q)
	f := s.takeFault(op, q)
	s.mu.Unlock()

	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	resp, after := s.handle(r, op, project, id, body, f, reqID)
	if f != nil && f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if after != nil {
		after()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

func (s *Server) handle(r *http.Request, op, project, id string, body []byte, f *Fault, reqID string) (response, func()) {
	if op == OpOther {
		return gatewayError(http.StatusNotFound, CodeAPINotFound, "The API does not exist or has not been published in the environment", reqID), nil
	}
	if f != nil && f.Body != nil {
		return response{cmp.Or(f.Status, http.StatusOK), f.Body}, nil
	}
	if f != nil && f.Status != 0 && !f.IgnoreOffset {
		code, msg := f.Code, f.Message
		if code == "" {
			code = CodeInternal
		}
		if msg == "" {
			msg = "simulated fault"
		}
		if strings.HasPrefix(code, "APIGW.") {
			return gatewayError(f.Status, code, msg, reqID), nil
		}
		return cbrError(f.Status, code, msg), nil
	}
	if resp, ok := s.authenticate(r, body, reqID); !ok {
		return resp, nil
	}
	if project != s.opts.ProjectID {
		return cbrError(http.StatusForbidden, CodeNotAuthenticated, "The project is not accessible."), nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return cbrError(http.StatusBadRequest, CodeInvalidParameter, "Invalid query string."), nil
	}
	switch op {
	case OpListOperationLogs:
		if f != nil && f.IgnoreOffset {
			q.Del("offset")
		}
		resp := s.listLogs(q)
		s.mu.Lock()
		fn := s.onPage
		s.mu.Unlock()
		if fn != nil && resp.status == http.StatusOK {
			return resp, func() { fn(q) }
		}
		return resp, nil
	case OpShowOperationLog:
		return s.showLog(id), nil
	case OpListPolicies:
		return s.listPolicies(q), nil
	default:
		return s.listVaults(q), nil
	}
}
