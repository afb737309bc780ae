package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
)

// getJSON GETs u and decodes the JSON answer into v; non-2xx answers are errors
// carrying the body.
func getJSON(u string, v any) error {
	resp, err := httpClient.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("GET %s: HTTP %d: %s", u, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %v: %s", u, err, body)
	}
	return nil
}

// promResponse is the envelope of Prometheus's HTTP API.
type promResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

// promSample is an element of an instant vector.
type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// queryResult is an instant query's answer.
type queryResult struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

// promQuery runs an instant query. A query Prometheus rejects (parse or
// execution error, HTTP 400/422) is a permanentError.
func promQuery(base, expr string) (queryResult, error) {
	var qr queryResult
	resp, err := httpClient.PostForm(base+"/api/v1/query", url.Values{"query": {expr}})
	if err != nil {
		return qr, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return qr, err
	}
	var pr promResponse
	if err := json.Unmarshal(body, &pr); err != nil {
		return qr, fmt.Errorf("HTTP %d: %v: %s", resp.StatusCode, err, body)
	}
	if pr.Status != "success" {
		err := fmt.Errorf("HTTP %d: %s: %s", resp.StatusCode, pr.ErrorType, pr.Error)
		if resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnprocessableEntity {
			return qr, permanentError{err}
		}
		return qr, err
	}
	if err := json.Unmarshal(pr.Data, &qr); err != nil {
		return qr, err
	}
	return qr, nil
}

// vector decodes an instant vector result.
func (qr queryResult) vector() ([]promSample, error) {
	if qr.ResultType != "vector" {
		return nil, fmt.Errorf("result type %s, want vector", qr.ResultType)
	}
	var v []promSample
	err := json.Unmarshal(qr.Result, &v)
	return v, err
}

// size is the number of series (vector, matrix) or 1 for a scalar/string.
func (qr queryResult) size() int {
	switch qr.ResultType {
	case "scalar", "string":
		return 1
	}
	var v []json.RawMessage
	if json.Unmarshal(qr.Result, &v) != nil {
		return 0
	}
	return len(v)
}

// allNaN reports whether every value of an instant vector is NaN.
func (qr queryResult) allNaN() bool {
	v, err := qr.vector()
	if err != nil || len(v) == 0 {
		return false
	}
	for _, s := range v {
		if str, _ := s.Value[1].(string); str != "NaN" {
			return false
		}
	}
	return true
}

// promAlert is an element of GET /api/v1/alerts.
type promAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

// promAlerts returns Prometheus's pending and firing alerts.
func promAlerts(base string) ([]promAlert, error) {
	var pr promResponse
	if err := getJSON(base+"/api/v1/alerts", &pr); err != nil {
		return nil, err
	}
	if pr.Status != "success" {
		return nil, fmt.Errorf("%s: %s", pr.ErrorType, pr.Error)
	}
	var data struct {
		Alerts []promAlert `json:"alerts"`
	}
	err := json.Unmarshal(pr.Data, &data)
	return data.Alerts, err
}

// amAlert is an element of Alertmanager's GET /api/v2/alerts.
type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Fingerprint string            `json:"fingerprint"`
	Status      struct {
		State       string   `json:"state"`
		InhibitedBy []string `json:"inhibitedBy"`
		SilencedBy  []string `json:"silencedBy"`
	} `json:"status"`
}

// amAlerts returns every alert Alertmanager holds, inhibited ones included.
func amAlerts(base string) ([]amAlert, error) {
	var alerts []amAlert
	err := getJSON(base+"/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true", &alerts)
	return alerts, err
}

// webhookMessage is what Alertmanager POSTs to a webhook receiver.
type webhookMessage struct {
	Receiver string `json:"receiver"`
	Status   string `json:"status"`
	Alerts   []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

// webhook records the notifications Alertmanager sends.
type webhook struct {
	mu       sync.Mutex
	messages []webhookMessage
	paths    []string
	bad      []string
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	var m webhookMessage
	if err == nil {
		err = json.Unmarshal(body, &m)
	}
	switch {
	case err != nil:
		h.bad = append(h.bad, fmt.Sprintf("%s %s: %v: %s", r.Method, r.URL.Path, err, body))
	case r.Method != http.MethodPost || r.URL.Path != "/"+m.Receiver:
		h.bad = append(h.bad, fmt.Sprintf("%s %s for receiver %q", r.Method, r.URL.Path, m.Receiver))
	default:
		h.messages = append(h.messages, m)
		h.paths = append(h.paths, r.URL.Path)
	}
	w.WriteHeader(http.StatusOK)
}

// firing returns the alerts received as firing, with the receivers that got
// each, and the malformed requests.
func (h *webhook) firing() (map[alertKey][]string, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[alertKey][]string{}
	for _, m := range h.messages {
		for _, a := range m.Alerts {
			if a.Status == "firing" {
				k := keyOf(a.Labels)
				out[k] = append(out[k], m.Receiver)
			}
		}
	}
	return out, append([]string(nil), h.bad...)
}

// annotations returns the annotations of every firing notification of k,
// oldest first.
func (h *webhook) annotations(k alertKey) []map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]string
	for _, m := range h.messages {
		for _, a := range m.Alerts {
			if a.Status == "firing" && keyOf(a.Labels) == k {
				out = append(out, a.Annotations)
			}
		}
	}
	return out
}

// dashboardQuery is one target of one panel.
type dashboardQuery struct {
	Panel, RefID, Expr string
}

// grafanaVars replaces the dashboard variables the way dashboards/check.sh
// does.
var grafanaVars = strings.NewReplacer(
	"$__rate_interval", "5m",
	"$__range", "1h",
	"$__interval", "1m",
	"${job}", ".*",
	"${instance}", ".*",
	"${target}", ".*",
	"${policy}", ".*",
	"$job", ".*",
	"$instance", ".*",
	"$target", ".*",
	"$policy", ".*",
)

// dashboardQueries returns every panel target's expression of a Grafana
// dashboard (nested row panels included) with the variables substituted.
func dashboardQueries(t *testing.T, path string) []dashboardQuery {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string `json:"title"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
		Panels []json.RawMessage `json:"panels"`
	}
	var dash struct {
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []dashboardQuery
	var walk func([]json.RawMessage)
	walk = func(raw []json.RawMessage) {
		for _, r := range raw {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" {
					continue
				}
				expr := grafanaVars.Replace(tg.Expr)
				if strings.Contains(expr, "$") {
					t.Errorf("%s: panel %q %s: unsupported variable in %s", path, p.Title, tg.RefID, expr)
				}
				out = append(out, dashboardQuery{Panel: p.Title, RefID: tg.RefID, Expr: expr})
			}
			walk(p.Panels)
		}
	}
	walk(dash.Panels)
	if len(out) == 0 {
		t.Fatalf("%s: no queries", path)
	}
	return out
}

// keySet renders a set of alert keys, sorted, one per line.
func keySet[V any](m map[alertKey]V) string {
	var s []string
	for k := range m {
		s = append(s, "  "+k.String())
	}
	sort.Strings(s)
	if len(s) == 0 {
		return "  (none)"
	}
	return strings.Join(s, "\n")
}
