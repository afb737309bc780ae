package vbstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Operation names, as used by Fault.Operation, Requests and RequestRecord.Op.
const (
	// OpListPolicies is GET /v2/{project_id}/backuppolicy.
	OpListPolicies = "list_policies"
	// OpListTasks is GET /v2/{project_id}/backuppolicy/{policy_id}/backuptasks.
	OpListTasks = "list_tasks"
	// OpListVolumes (evs.go) is the EVS volume list.
	// OpIAMToken is POST /v3/auth/tokens.
	OpIAMToken = "iam_token"
	// opOther is any request that matches none of the calls above (answered 404).
	opOther = "other"
)

// Default values filled in by NewServer and newHandler for zero Options fields.
const (
	DefaultProjectID = "0605767f2f00d5d22f16c00e4e8f1d4a"
	DefaultAccessKey = "DEMOACCESSKEY"
	DefaultSecretKey = "demo-secret-key"
	defaultDomain    = "demo-domain"
	defaultUser      = "demo-user"
	defaultPassword  = "demo-password"
	defaultTokenTTL  = 24 * time.Hour
	// defaultLimit is the tasks page size when the request has no limit.
	defaultLimit = 20
	// defaultMaxLimit is the largest tasks page size; larger limits are clamped.
	defaultMaxLimit = 1000
)

// Error codes the simulator answers with.
const (
	// codeAuthFailed is the API Gateway code for a bad signature or token (401).
	codeAuthFailed = "APIGW.0301"
	// codeThrottled is the API Gateway code for throttling (429).
	codeThrottled = "APIGW.0308"
	// codeAPINotFound is the API Gateway code for an unknown path or method (404).
	codeAPINotFound = "APIGW.0101"
	// codePolicyNotFound is the VBS code for an unknown policy (404).
	codePolicyNotFound = "AutoBackup.0205"
	// codeTokenExpired is the VBS code for an expired token (401).
	codeTokenExpired = "AutoBackup.0003"
	// codeInvalidParameter is the VBS code for a bad query parameter (400).
	codeInvalidParameter = "VolumeBackup.0001"
	// codeProjectMismatch is the code for a project ID in the path that is not
	// the simulator's project (403). The vendor's code is undocumented; this
	// one is the simulator's choice.
	codeProjectMismatch = "common.0003"
)

// maxRequestBody caps the request body the simulator reads.
const maxRequestBody = 1 << 20

// requestLogSize is how many requests RequestLog keeps.
const requestLogSize = 1024

// Options configures a Server. Zero fields take the documented defaults.
type Options struct {
	// ProjectID is the only project the simulator serves; default DefaultProjectID.
	ProjectID string
	// AccessKey and SecretKey are the accepted AK/SK pair; defaults
	// DefaultAccessKey and DefaultSecretKey.
	AccessKey string
	SecretKey string
	// SecurityToken, if set, must be sent in X-Security-Token with every AK/SK
	// request (temporary credentials).
	SecurityToken string
	// Domain, User and Password are the accepted IAM password credentials;
	// defaults defaultDomain, defaultUser and defaultPassword.
	Domain   string
	User     string
	Password string
	// tokenTTL is the lifetime of issued tokens; default 24h.
	tokenTTL time.Duration
	// Now is the clock for token expiry, X-Sdk-Date checks and the AK lockout;
	// default time.Now.
	Now func() time.Time
	// latency is added to every request (see also SetLatency).
	latency time.Duration
	// SkipAuth accepts VBS requests without any credentials.
	SkipAuth bool
	// MaxLimit is the largest tasks page size; larger limits are clamped to it.
	// Default defaultMaxLimit; set it to 100 for a server that caps limit
	// below what a client asks for.
	MaxLimit int
	// CountIsPageSize makes "count" the number of jobs on the page instead of
	// the number of matching jobs: the vendor documents neither for sure.
	CountIsPageSize bool
}

func (o Options) withDefaults() Options {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&o.ProjectID, DefaultProjectID)
	def(&o.AccessKey, DefaultAccessKey)
	def(&o.SecretKey, DefaultSecretKey)
	def(&o.Domain, defaultDomain)
	def(&o.User, defaultUser)
	def(&o.Password, defaultPassword)
	if o.tokenTTL <= 0 {
		o.tokenTTL = defaultTokenTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxLimit <= 0 {
		o.MaxLimit = defaultMaxLimit
	}
	return o
}

// RequestRecord describes one request the Server received (see RequestLog).
type RequestRecord struct {
	// Op is the operation (OpListPolicies, OpListTasks, OpIAMToken or opOther).
	Op string
	// Method, Path (escaped) and RawQuery are as received.
	Method   string
	Path     string
	RawQuery string
	// header is a copy of the request headers (Host is in header["Host"]).
	header http.Header
	// RequestID is the X-Request-Id the response carried.
	RequestID string
	// Status is the response status; 0 when no response was written (the
	// connection was reset or the client went away).
	Status int
	// Auth is "aksk", "token", "none" or "" (not authenticated: IAM call,
	// opOther or a fault answered first).
	Auth string
	// canonicalRequest is the canonical request the simulator computed for an
	// AK/SK signature (empty otherwise); handy when a client's signature fails.
	canonicalRequest string
	// FaultID is the ID of the fault applied to the request, 0 if none.
	FaultID int
}

// Server is the simulator: an http.Handler for the VBS and IAM calls plus
// methods to set up its state, inject faults and inspect requests. Create it
// with NewServer or newHandler.
type Server struct {
	opts      Options
	closing   chan struct{}
	closeOnce sync.Once

	mu          sync.Mutex
	ts          *httptest.Server
	latency     time.Duration
	order       []string // listed policy IDs, in insertion order
	policies    map[string]*policyState
	faults      []*faultEntry
	nextFaultID int
	counters    map[string]int
	tokens      map[string]*tokenState
	issued      []string
	akRevoked   bool
	sigFailures []time.Time // failed signatures within lockoutWindow
	lockedUntil time.Time
	log         []RequestRecord // ring buffer
	logNext     int
	volumes     []Volume // nil: derived from the jobs (see SetVolumes)
}

// NewServer returns a started Server listening on a random 127.0.0.1 port. Call
// Close when done.
func NewServer(o Options) *Server {
	s := newHandler(o)
	s.start(nil)
	return s
}

// newHandler returns a Server that is not listening. Serve it with Start, or
// mount it (it is an http.Handler) on any server; Close then only releases
// hung requests.
func newHandler(o Options) *Server {
	o = o.withDefaults()
	return &Server{
		opts:     o,
		closing:  make(chan struct{}),
		latency:  o.latency,
		policies: map[string]*policyState{},
		counters: map[string]int{},
		tokens:   map[string]*tokenState{},
	}
}

// Start serves s on l through an httptest.Server, or on a new 127.0.0.1
// listener when l is nil. It panics if s is already started.
func (s *Server) start(l net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts != nil {
		panic("vbstest: Server already started")
	}
	if l == nil {
		s.ts = httptest.NewServer(s)
		return
	}
	s.ts = &httptest.Server{Listener: l, Config: &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}}
	s.ts.Start()
}

// URL returns the base URL ("http://127.0.0.1:port"), to be used both as the
// VBS endpoint and as the IAM endpoint; "" if the Server is not started.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts == nil {
		return ""
	}
	return s.ts.URL
}

// Client returns the httptest client of the started Server (its transport is
// closed by Close), or http.DefaultClient if the Server is not started.
func (s *Server) Client() *http.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts == nil {
		return http.DefaultClient
	}
	return s.ts.Client()
}

// Close releases hung and delayed requests (they end without a response) and,
// if the Server was started, shuts the listener down and waits for running
// requests. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.mu.Lock()
	ts := s.ts
	s.mu.Unlock()
	if ts != nil {
		ts.Close()
	}
}

// Options returns the effective options, defaults filled in; latency is the
// current value set by SetLatency.
func (s *Server) Options() Options {
	o := s.opts
	s.mu.Lock()
	o.latency = s.latency
	s.mu.Unlock()
	return o
}

// SetLatency sets the delay added to every request from now on.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// Requests returns how many requests of operation op reached the handler,
// including faulted and rejected ones; op "" gives the total.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op != "" {
		return s.counters[op]
	}
	n := 0
	for _, c := range s.counters {
		n += c
	}
	return n
}

// ResetCounters sets every request counter to zero and clears the request log.
func (s *Server) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.counters)
	s.log = nil
	s.logNext = 0
}

// RequestLog returns the last requests of operation op (all when op is ""),
// oldest first. Up to 1024 requests are kept in total.
func (s *Server) RequestLog(op string) []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RequestRecord
	n := len(s.log)
	for i := range n {
		r := s.log[(s.logNext+i)%n]
		if op == "" || r.Op == op {
			r.header = r.header.Clone()
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) record(r RequestRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) < requestLogSize {
		s.log = append(s.log, r)
		return
	}
	s.log[s.logNext] = r
	s.logNext = (s.logNext + 1) % requestLogSize
}

func (s *Server) now() time.Time { return s.opts.Now() }

// response is a complete answer, built before it is written so that faults can
// transform it.
type response struct {
	status int
	header http.Header
	body   []byte
}

const jsonContentType = "application/json;charset=UTF-8"

func jsonResponse(status int, body []byte) response {
	return response{status: status, header: http.Header{"Content-Type": {jsonContentType}}, body: body}
}

// vbsError is {"error":{"code":...,"message":...}}.
func vbsError(status int, code, msg string) response {
	b := []byte(`{"error":{"code":`)
	b = appendString(b, code)
	b = append(b, `,"message":`...)
	b = appendString(b, msg)
	b = append(b, "}}"...)
	return jsonResponse(status, b)
}

// gatewayError is {"error_code":...,"error_msg":...,"request_id":...}.
func gatewayError(status int, code, msg, reqID string) response {
	b := []byte(`{"error_code":`)
	b = appendString(b, code)
	b = append(b, `,"error_msg":`...)
	b = appendString(b, msg)
	b = append(b, `,"request_id":`...)
	b = appendString(b, reqID)
	b = append(b, '}')
	return jsonResponse(status, b)
}

// iamError is IAM's own {"error":{"code":401,"message":...,"title":...}}.
func iamError(status int, msg string) response {
	b := []byte(`{"error":{"code":`)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"message":`...)
	b = appendString(b, msg)
	b = append(b, `,"title":`...)
	b = appendString(b, http.StatusText(status))
	b = append(b, "}}"...)
	return jsonResponse(status, b)
}

// statusWriter records the status written and lets http.ResponseController
// reach the underlying writer (Flush, Hijack).
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first status code and passes it on.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 and passes the bytes on.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type routeInfo struct {
	op       string
	project  string
	policyID string
}

func route(r *http.Request) routeInfo {
	p := r.URL.EscapedPath()
	if p == "/v3/auth/tokens" {
		if r.Method == http.MethodPost {
			return routeInfo{op: OpIAMToken}
		}
		return routeInfo{op: opOther}
	}
	if r.Method != http.MethodGet {
		return routeInfo{op: opOther}
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if len(segs) == 4 && segs[0] == "v2" && segs[1] != "" && segs[2] == "cloudvolumes" && segs[3] == "detail" {
		if project, err := url.PathUnescape(segs[1]); err == nil {
			return routeInfo{op: OpListVolumes, project: project}
		}
		return routeInfo{op: opOther}
	}
	if len(segs) < 3 || segs[0] != "v2" || segs[2] != "backuppolicy" || segs[1] == "" {
		return routeInfo{op: opOther}
	}
	project, err := url.PathUnescape(segs[1])
	if err != nil {
		return routeInfo{op: opOther}
	}
	switch {
	case len(segs) == 3:
		return routeInfo{op: OpListPolicies, project: project}
	case len(segs) == 5 && segs[4] == "backuptasks" && segs[3] != "":
		id, err := url.PathUnescape(segs[3])
		if err != nil {
			return routeInfo{op: opOther}
		}
		return routeInfo{op: OpListTasks, project: project, policyID: id}
	}
	return routeInfo{op: opOther}
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// wait sleeps d; it returns false early if ctx is done or the Server closes.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

// abort ends the handler without a response: the connection is dropped.
func abort() { panic(http.ErrAbortHandler) }

// ServeHTTP answers one VBS or IAM request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("X-Request-Id", reqID)
	sw := &statusWriter{ResponseWriter: w}
	rt := route(r)
	hdr := r.Header.Clone()
	hdr.Set("Host", r.Host)
	rec := RequestRecord{Op: rt.op, Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, header: hdr, RequestID: reqID}
	s.mu.Lock()
	s.counters[rt.op]++
	lat := s.latency
	s.mu.Unlock()
	logged := false
	logRequest := func() {
		if !logged {
			logged = true
			rec.Status = sw.status
			s.record(rec)
		}
	}
	defer logRequest()

	if !s.wait(r.Context(), lat) {
		s.gone()
		return
	}
	if rt.op == opOther {
		s.write(sw, gatewayError(http.StatusNotFound, codeAPINotFound, "The API does not exist or has not been published in the environment", reqID), nil)
		return
	}
	f, fid := s.takeFault(rt)
	if f != nil {
		rec.FaultID = fid
		if !s.wait(r.Context(), f.Latency) {
			s.gone()
			return
		}
		if f.Kind == FaultReset {
			// The client sees the reset the moment the connection closes,
			// before this handler returns: log the request first, so that
			// RequestLog holds every request whose outcome a client saw.
			logRequest()
		}
		if s.applyFault(sw, r, rt, f, reqID) {
			return
		}
	}
	resp := s.handle(r, rt, f, reqID, &rec)
	s.write(sw, resp, f)
}

// gone ends a request whose wait was interrupted: silently if the client went
// away, by dropping the connection if the Server is closing.
func (s *Server) gone() {
	select {
	case <-s.closing:
		abort()
	default:
	}
}

func (s *Server) handle(r *http.Request, rt routeInfo, f *Fault, reqID string, rec *RequestRecord) response {
	var body []byte
	var err error
	if r.Body != nil {
		body, err = io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	}
	if err != nil {
		return vbsError(http.StatusBadRequest, codeInvalidParameter, "cannot read request body")
	}
	if len(body) > maxRequestBody {
		return vbsError(http.StatusRequestEntityTooLarge, codeInvalidParameter, "request body too large")
	}
	if rt.op == OpIAMToken {
		return s.issueToken(r, body)
	}
	if resp, ok := s.authenticate(r, body, reqID, rec); !ok {
		return resp
	}
	if rt.project != s.opts.ProjectID {
		return vbsError(http.StatusForbidden, codeProjectMismatch, "The project ID in the URL does not match the authenticated project.")
	}
	switch rt.op {
	case OpListPolicies:
		return s.listPolicies()
	case OpListVolumes:
		return s.listVolumes(r)
	default:
		return s.listTasks(r, rt.policyID, f)
	}
}

// write sends resp, applying the body-transforming faults.
func (s *Server) write(w *statusWriter, resp response, f *Fault) {
	h := w.Header()
	for k, v := range resp.header {
		h[k] = v
	}
	body := resp.body
	if f != nil {
		if f.RetryAfter != "" {
			h.Set("Retry-After", f.RetryAfter)
		}
		switch f.Kind {
		case FaultTruncatedJSON:
			body = body[:len(body)/2]
		case FaultWrongContentType:
			h.Set("Content-Type", "text/plain; charset=utf-8")
		case FaultCutBody:
			h.Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(resp.status)
			_, _ = w.Write(body[:len(body)/2])
			_ = http.NewResponseController(w).Flush()
			abort()
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.status)
	_, _ = w.Write(body)
}
