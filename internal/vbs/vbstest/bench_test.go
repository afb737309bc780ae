package vbstest

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// bigScenario is 10 daily policies × 50 disks × 300 days = 150,000 jobs.
func bigScenario() Scenario {
	return Generate(GenOptions{Policies: 10, Disks: 50, Days: 300, Seed: 1, FailRate: 0.02,
		Schedules: []Policy{{Name: "daily", StartTime: "02:00", Frequency: 1, Enabled: true}}})
}

func TestBigScenarioSize(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	sc := bigScenario()
	if n := sc.JobCount(); n != 150000 {
		t.Fatalf("%d jobs", n)
	}
	s := newHandler(Options{SkipAuth: true})
	defer s.Close()
	s.Load(sc)
	// A page deep into a 15,000-job policy costs the same as the first page.
	jobs := sc.Jobs[sc.Policies[0].ID]
	st := s.policies[sc.Policies[0].ID]
	st.ensureSorted()
	first := timeRender(st, taskQuery{limit: 1000})
	deep := timeRender(st, taskQuery{limit: 1000, marker: jobs[13999].JobID})
	if deep > 20*first+5*time.Millisecond {
		t.Errorf("deep page %v, first page %v", deep, first)
	}
}

func timeRender(st *policyState, q taskQuery) time.Duration {
	best := time.Hour
	for range 5 {
		start := time.Now()
		_, _ = st.renderTasks(q)
		best = min(best, time.Since(start))
	}
	return best
}

func BenchmarkGenerate150k(b *testing.B) {
	for b.Loop() {
		bigScenario()
	}
}

// BenchmarkWalk150k pages through all 150,000 jobs over HTTP (10 policies,
// limit 1000, marker paging): 160 requests per walk.
func BenchmarkWalk150k(b *testing.B) {
	s, _ := newTestServer(b, Options{SkipAuth: true})
	sc := bigScenario()
	s.Load(sc)
	client := s.Client()
	b.ResetTimer()
	for b.Loop() {
		total := 0
		for _, p := range sc.Policies {
			marker := ""
			for {
				u := s.URL() + tasksPath(s, p.ID) + "?limit=1000"
				if marker != "" {
					u += "&marker=" + marker
				}
				resp, err := client.Get(u)
				if err != nil {
					b.Fatal(err)
				}
				var page tasksJSON
				err = decodeJSON(resp, &page)
				if err != nil {
					b.Fatal(err)
				}
				if len(page.Tasks) == 0 {
					break
				}
				total += len(page.Tasks)
				marker = page.Tasks[len(page.Tasks)-1].JobID
			}
		}
		if total != 150000 {
			b.Fatalf("walked %d jobs", total)
		}
	}
}

func BenchmarkRenderPage(b *testing.B) {
	s := newHandler(Options{SkipAuth: true})
	sc := bigScenario()
	s.Load(sc)
	st := s.policies[sc.Policies[0].ID]
	marker := sc.Jobs[sc.Policies[0].ID][7000].JobID
	for b.Loop() {
		s.mu.Lock()
		_, _ = st.renderTasks(taskQuery{limit: 1000, marker: marker})
		s.mu.Unlock()
	}
}

func decodeJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return jsonDecoder(resp).Decode(v)
}

func jsonDecoder(resp *http.Response) *json.Decoder { return json.NewDecoder(resp.Body) }
