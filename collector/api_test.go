package collector

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// apiMetricsHeader is the HELP and TYPE of both API request families.
const apiMetricsHeader = `# HELP vbs_api_request_duration_seconds Latency of HTTP requests to the Huawei Cloud APIs (VBS, CBR, EVS, IAM).
# TYPE vbs_api_request_duration_seconds histogram
# HELP vbs_api_requests_total HTTP requests to the Huawei Cloud APIs (VBS, CBR, EVS, IAM), by operation and HTTP status code ("error" when no response arrived). Every attempt counts, retries included.
# TYPE vbs_api_requests_total counter
`

// apiMetricsB is target b's series after one 201 iam_token request of 100 ms.
const apiMetricsB = `vbs_api_request_duration_seconds_bucket{operation="iam_token",target="b",le="0.05"} 0
vbs_api_request_duration_seconds_bucket{operation="iam_token",target="b",le="0.1"} 1
vbs_api_request_duration_seconds_bucket{operation="iam_token",target="b",le="0.25"} 1
vbs_api_request_duration_seconds_bucket{operation="iam_token",target="b",le="0.5"} 1
vbs_api_request_duration_seconds_bucket{operation="iam_token",target="b",le="1"} 1
vbs_api_request_duration_seconds_bucket{operation="iam_token",target="b",le="2.5"} 1
vbs_api_request_duration_seconds_bucket{operation="iam_token",target="b",le="5"} 1
vbs_api_request_duration_seconds_bucket{operation="iam_token",target="b",le="10"} 1
vbs_api_request_duration_seconds_bucket{operation="iam_token",target="b",le="30"} 1
vbs_api_request_duration_seconds_bucket{operation="iam_token",target="b",le="+Inf"} 1
vbs_api_request_duration_seconds_sum{operation="iam_token",target="b"} 0.1
vbs_api_request_duration_seconds_count{operation="iam_token",target="b"} 1
vbs_api_requests_total{code="201",operation="iam_token",target="b"} 1
`

// TestAPIMetricsExposition: the exact series of known requests, for every
// target and for one (For), and none of a target Retain dropped, even for a
// request it makes afterwards.
func TestAPIMetricsExposition(t *testing.T) {
	m := NewAPIMetrics()
	a, b := m.Observer("a"), m.Observer("b")
	a(hwcloud.RequestEvent{Operation: "list_policies", StatusCode: 200, Duration: 30 * time.Millisecond})
	a(hwcloud.RequestEvent{Operation: "list_policies", StatusCode: 200, Duration: 700 * time.Millisecond})
	a(hwcloud.RequestEvent{Operation: "list_policies", StatusCode: 503, Duration: 50 * time.Millisecond})
	a(hwcloud.RequestEvent{Operation: "list_tasks", Duration: 40 * time.Second})
	b(hwcloud.RequestEvent{Operation: "iam_token", StatusCode: 201, Duration: 100 * time.Millisecond})

	apiMetricsA := `vbs_api_request_duration_seconds_bucket{operation="list_policies",target="a",le="0.05"} 2
vbs_api_request_duration_seconds_bucket{operation="list_policies",target="a",le="0.1"} 2
vbs_api_request_duration_seconds_bucket{operation="list_policies",target="a",le="0.25"} 2
vbs_api_request_duration_seconds_bucket{operation="list_policies",target="a",le="0.5"} 2
vbs_api_request_duration_seconds_bucket{operation="list_policies",target="a",le="1"} 3
vbs_api_request_duration_seconds_bucket{operation="list_policies",target="a",le="2.5"} 3
vbs_api_request_duration_seconds_bucket{operation="list_policies",target="a",le="5"} 3
vbs_api_request_duration_seconds_bucket{operation="list_policies",target="a",le="10"} 3
vbs_api_request_duration_seconds_bucket{operation="list_policies",target="a",le="30"} 3
vbs_api_request_duration_seconds_bucket{operation="list_policies",target="a",le="+Inf"} 3
vbs_api_request_duration_seconds_sum{operation="list_policies",target="a"} 0.78
vbs_api_request_duration_seconds_count{operation="list_policies",target="a"} 3
vbs_api_request_duration_seconds_bucket{operation="list_tasks",target="a",le="0.05"} 0
vbs_api_request_duration_seconds_bucket{operation="list_tasks",target="a",le="0.1"} 0
vbs_api_request_duration_seconds_bucket{operation="list_tasks",target="a",le="0.25"} 0
vbs_api_request_duration_seconds_bucket{operation="list_tasks",target="a",le="0.5"} 0
vbs_api_request_duration_seconds_bucket{operation="list_tasks",target="a",le="1"} 0
vbs_api_request_duration_seconds_bucket{operation="list_tasks",target="a",le="2.5"} 0
vbs_api_request_duration_seconds_bucket{operation="list_tasks",target="a",le="5"} 0
vbs_api_request_duration_seconds_bucket{operation="list_tasks",target="a",le="10"} 0
vbs_api_request_duration_seconds_bucket{operation="list_tasks",target="a",le="30"} 0
vbs_api_request_duration_seconds_bucket{operation="list_tasks",target="a",le="+Inf"} 1
vbs_api_request_duration_seconds_sum{operation="list_tasks",target="a"} 40
vbs_api_request_duration_seconds_count{operation="list_tasks",target="a"} 1
vbs_api_requests_total{code="200",operation="list_policies",target="a"} 2
vbs_api_requests_total{code="503",operation="list_policies",target="a"} 1
vbs_api_requests_total{code="error",operation="list_tasks",target="a"} 1
`
	check := func(name string, c prometheus.Collector, want string) {
		t.Helper()
		if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	check("all", m, apiMetricsHeader+apiMetricsA+apiMetricsB)
	check("For(b)", m.For("b"), apiMetricsHeader+apiMetricsB)
	check("For(b, b)", m.For("b", "b"), apiMetricsHeader+apiMetricsB)
	check("For()", m.For(), "")

	m.Retain([]string{"b"})
	a(hwcloud.RequestEvent{Operation: "list_tasks", StatusCode: 200, Duration: time.Second}) // a late refresh of a
	check("after Retain(b)", m, apiMetricsHeader+apiMetricsB)
	check("For(a) after Retain(b)", m.For("a"), "")
}

// BenchmarkAPIMetricsFor: gathering one target's API metrics (what /probe
// does) out of 20 targets with 3 operations and 2 codes each.
func BenchmarkAPIMetricsFor(b *testing.B) {
	m := NewAPIMetrics()
	for i := range 20 {
		obs := m.Observer("t" + strconv.Itoa(i))
		for _, op := range []string{"iam_token", "list_policies", "list_tasks"} {
			obs(hwcloud.RequestEvent{Operation: op, StatusCode: 200, Duration: 80 * time.Millisecond})
			obs(hwcloud.RequestEvent{Operation: op, StatusCode: 503, Duration: 2 * time.Second})
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.For("t7"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
