package main

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
	"github.com/vbs-exporter/vbs_exporter/internal/store"
)

// The status page ("/") and the debug refresh (/probe?target=NAME&debug=true)
// are for the person on call, like blackbox_exporter's landing page and its
// debug probes: the page shows what each target's last refresh found, without
// calling the API; the debug refresh runs one and tells what it did.

// maxMessage bounds a message (an error, a job's failure message) on the
// status page.
const maxMessage = 300

// landing serves the status page.
type landing struct {
	telemetryPath string
	// metricsTargets is true when the telemetry path carries every target.
	metricsTargets bool
	ex             *exporter
	now            func() time.Time
}

func (l *landing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, err := l.page()
	if err != nil {
		http.Error(w, fmt.Sprintf("rendering the status page failed: %v", err), http.StatusInternalServerError)
		return
	}
	h.ServeHTTP(w, r)
}

// page builds the status page from the targets' last snapshots. It is built
// for every request: the state changes with every refresh, and the page is
// not scraped.
func (l *landing) page() (http.Handler, error) {
	targets := l.ex.all()
	probe := "/probe?target="
	if len(targets) > 0 {
		probe += url.QueryEscape(targets[0].Name())
	}
	metricsDesc := "Every target plus the exporter's own metrics"
	if !l.metricsTargets {
		metricsDesc = "The exporter's own metrics (targets: /probe; --web.metrics.targets is off)"
	}
	var b strings.Builder
	writeStatus(&b, targets, l.now())
	b.WriteString(`<div><form action="/-/reload" method="post">Reload the configuration file: ` +
		`<input type="submit" value="Reload"></form></div>`)
	return web.NewLandingPage(web.LandingConfig{
		Name:        "VBS Exporter",
		Description: "Prometheus exporter for Huawei Cloud VBS disk backup jobs",
		Version:     version.Info(),
		// Probe one target by name, like blackbox_exporter's form.
		Form: web.LandingForm{Action: "/probe", Inputs: []web.LandingFormInput{
			{Label: "Target", Type: "text", Name: "target", Placeholder: "a configured target name"},
		}},
		ExtraHTML: b.String(),
		ExtraCSS: `table.vbs { border-collapse: collapse; margin: 0.5em 0 1em; }
table.vbs th, table.vbs td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; }
.down { color: #c00; font-weight: bold; }
.up { color: #080; font-weight: bold; }`,
		// The toolkit links /debug/pprof/* unless told not to; this
		// exporter does not serve them, so the links would be 404s.
		Profiling: "false",
		Links: []web.LandingLinks{
			{Address: html.EscapeString(l.telemetryPath), Text: "Metrics", Description: metricsDesc},
			{Address: html.EscapeString(probe), Text: "Probe", Description: "One configured target: /probe?target=NAME (add &debug=true to see what a refresh does)"},
			{Address: "/config", Text: "Configuration", Description: "The running configuration, secrets redacted"},
			{Address: "/-/healthy", Text: "Health", Description: "Liveness check"},
		},
	})
}

// writeStatus writes the targets' section of the status page. Every value
// from the configuration or the API is HTML-escaped.
func writeStatus(b *strings.Builder, targets []*store.Target, now time.Time) {
	b.WriteString("<div><h2>Targets</h2>")
	if len(targets) == 0 {
		b.WriteString("<p>No target is configured.</p></div>")
		return
	}
	b.WriteString(`<table class="vbs"><tr><th>Target</th><th>State</th><th>Last refresh</th><th>Duration</th>` +
		`<th>Policies</th><th>Open jobs</th><th>Failing disks</th><th>Links</th></tr>`)
	for _, t := range targets {
		writeTargetRow(b, t.Name(), t.Last(), now)
	}
	b.WriteString("</table>")
	for _, t := range targets {
		writeTargetDetails(b, t.Name(), t.Last(), now)
	}
	b.WriteString("</div>")
}

// probeLinks returns the escaped /probe and debug addresses of a target.
func probeLinks(name string) (probe, debug string) {
	q := url.QueryEscape(name)
	return html.EscapeString("/probe?target=" + q), html.EscapeString("/probe?target=" + q + "&debug=true")
}

func writeTargetRow(b *strings.Builder, name string, s *store.Snapshot, now time.Time) {
	e := html.EscapeString
	probe, debug := probeLinks(name)
	fmt.Fprintf(b, `<tr><td><a href="#target-%s">%s</a></td>`, e(url.QueryEscape(name)), e(name))
	if s == nil {
		b.WriteString(`<td>not refreshed yet</td><td>never</td><td>-</td><td>-</td><td>-</td><td>-</td>`)
	} else {
		open, failing := 0, 0
		for i := range s.Policies {
			open += s.Policies[i].OpenJobs
			failing += len(s.Policies[i].FailedDisks())
		}
		fmt.Fprintf(b, `<td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%d</td><td>%d</td>`,
			stateHTML(s), e(whenText(s.Time, now)), e(durationText(s.Duration)), len(s.Policies), open, failing)
	}
	fmt.Fprintf(b, `<td><a href="%s">probe</a> <a href="%s">debug refresh</a></td></tr>`, probe, debug)
}

// stateHTML is a target's state: up, or down with the reason.
func stateHTML(s *store.Snapshot) string {
	if s.Up {
		return `<span class="up">up</span>`
	}
	if s.Err == "" {
		// No refresh finished within its deadline yet.
		return `<span class="down">down</span>: not read yet`
	}
	return `<span class="down">down</span>: ` + html.EscapeString(hwcloud.Truncate(s.Err, maxMessage))
}

func writeTargetDetails(b *strings.Builder, name string, s *store.Snapshot, now time.Time) {
	e := html.EscapeString
	fmt.Fprintf(b, `<h3 id="target-%s">Target %s</h3>`, e(url.QueryEscape(name)), e(name))
	if s == nil {
		b.WriteString("<p>Not refreshed yet: scrape /probe or the metrics to read it.</p>")
		return
	}
	if s.HasAuthBackoff && s.AuthBackoffUntil.After(now) {
		fmt.Fprintf(b, "<p>The API refused the credentials: no request is sent before %s.</p>", e(s.AuthBackoffUntil.UTC().Format(time.RFC3339)))
	}
	if len(s.Policies) == 0 {
		b.WriteString("<p>Policies: none known.</p>")
	} else {
		b.WriteString(`<table class="vbs"><tr><th>Policy ID</th><th>Name</th><th>Refresh</th><th>Backfill</th>` +
			`<th>Cached jobs</th><th>Open jobs</th><th>Newest job</th></tr>`)
		for i := range s.Policies {
			p := &s.Policies[i]
			refresh, backfill := policyState(p, maxMessage)
			newest := "none"
			if p.HasLastJob {
				newest = time.UnixMilli(p.LastJob).UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%d</td><td>%s</td></tr>",
				e(p.Policy.ID), e(p.Policy.Name), e(refresh), backfill, p.CachedJobs, p.OpenJobs, e(newest))
		}
		b.WriteString("</table>")
	}
	failures := recentFailures(s)
	if len(failures) == 0 {
		b.WriteString("<p>Recent failures: none.</p>")
		return
	}
	b.WriteString(`<p>Recent failures:</p><table class="vbs"><tr><th>Policy</th><th>Disk</th><th>Type</th>` +
		`<th>Status</th><th>In a row</th><th>Code</th><th>Message</th></tr>`)
	for _, f := range failures {
		fmt.Fprintf(b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%s</td><td>%s</td></tr>",
			e(f.Policy), e(diskText(f.ResourceID, f.ResourceName)), e(f.ResourceType), e(f.Status), f.InARow,
			e(orNone(f.Code)), e(orNone(hwcloud.Truncate(f.Message, maxMessage))))
	}
	b.WriteString("</table>")
}

// failureRow is one disk on the status page's recent failures.
type failureRow struct {
	Policy                   string // the policy's name, or its ID when unnamed
	ResourceID, ResourceType string
	Status                   string // the newest finished job's status
	InARow                   int    // failed jobs since the last success
	// ResourceName is the disk's name when known (resource_names), else "".
	ResourceName string
	// Code and Message are the vendor's failure code and message of the
	// newest failed job (store.ResourceFailure); "" when it had none.
	Code, Message string
}

// diskText is a disk's ID, followed by its name in parentheses when known.
func diskText(id, name string) string {
	if name == "" {
		return id
	}
	return id + " (" + name + ")"
}

// recentFailures returns the disks of s whose newest finished job failed,
// policy by policy: the status page's "Recent failures". It is the one place
// that turns the snapshot's failure data into rows, with the newest failed
// job's code and message and the disk's name (PolicySnapshot.Failures).
func recentFailures(s *store.Snapshot) []failureRow {
	if s == nil {
		return nil
	}
	var out []failureRow
	for i := range s.Policies {
		p := &s.Policies[i]
		name := p.Policy.Name
		if name == "" {
			name = p.Policy.ID
		}
		last := map[[2]string]store.ResourceFailure{}
		for _, f := range p.Failures() {
			last[[2]string{f.ResourceID, f.ResourceType}] = f
		}
		for _, d := range p.FailedDisks() {
			f := last[[2]string{d.ResourceID, d.ResourceType}]
			out = append(out, failureRow{Policy: name, ResourceID: d.ResourceID, ResourceType: d.ResourceType,
				ResourceName: f.ResourceName, Status: d.Status, InARow: d.ConsecutiveFailures, Code: f.Code, Message: f.Message})
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// whenText is a refresh time for people: UTC and how long ago.
func whenText(t, now time.Time) string {
	ago := now.Sub(t).Round(time.Second)
	if ago < 0 {
		ago = 0
	}
	return fmt.Sprintf("%s (%s ago)", t.UTC().Format(time.RFC3339), ago)
}

func durationText(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
}

// writeDebug writes what a debug refresh of a target did, as text: the
// refresh, every API request, each policy's jobs, then the metrics /probe
// would have returned (like blackbox_exporter's debug=true). fresh is false
// when the refresh did not end within the scrape timeout: s is then what
// was known before.
func writeDebug(w io.Writer, name string, s *store.Snapshot, fresh bool, timeout time.Duration, own prometheus.Collector) {
	fmt.Fprintf(w, "Debug refresh of target %q\n", name)
	if !fresh {
		fmt.Fprintf(w, "The refresh did not end within the timeout (%s); it goes on in the background. What follows is what was known before it.\n", timeout)
	}
	state := "up"
	if !s.Up {
		state = "down"
		if s.Err != "" {
			state += ": " + s.Err
		}
	}
	fmt.Fprintf(w, "State: %s\nFinished: %s\nDuration: %s (timeout %s)\n", state, s.Time.UTC().Format(time.RFC3339Nano), durationText(s.Duration), timeout)
	if s.HasAuthBackoff && !s.AuthBackoffUntil.IsZero() {
		fmt.Fprintf(w, "Credential back-off until: %s\n", s.AuthBackoffUntil.UTC().Format(time.RFC3339))
	}

	requests := s.Requests
	if !fresh {
		// The snapshot is an earlier refresh's: its requests and job
		// changes are not this one's.
		requests = nil
		fmt.Fprint(w, "\n\nAPI requests of the refresh: not shown, the refresh had not ended.\n")
	} else {
		fmt.Fprintf(w, "\n\nAPI requests of the refresh (%d", len(requests))
		if s.RequestsDropped > 0 {
			fmt.Fprintf(w, ", and %d more not kept", s.RequestsDropped)
		}
		fmt.Fprintln(w, "):")
		if len(requests) == 0 {
			fmt.Fprintln(w, "none")
		}
	}
	pages := map[string]int{}
	for i, e := range requests {
		status := "no response"
		if e.StatusCode > 0 {
			status = strconv.Itoa(e.StatusCode)
		}
		fmt.Fprintf(w, "%d. %s %s %s status=%s request_id=%s latency=%s attempt=%d", i+1, e.Operation, e.Method, e.Path,
			status, orNone(e.RequestID), e.Duration.Round(time.Microsecond), e.Attempt)
		if e.Retried {
			fmt.Fprint(w, " retried")
		}
		if e.Err != nil {
			fmt.Fprintf(w, " err=%q", hwcloud.Truncate(e.Err.Error(), maxMessage))
		}
		fmt.Fprintln(w)
		if e.StatusCode >= 200 && e.StatusCode < 300 && e.Err == nil {
			pages[e.Path]++
		}
	}

	fmt.Fprintf(w, "\n\nPolicies (%d):\n", len(s.Policies))
	for i := range s.Policies {
		p := &s.Policies[i]
		refresh, backfill := policyState(p, len(p.Err))
		if !fresh {
			fmt.Fprintf(w, "policy %s (%q): backfill %s; cached %d, open %d\n", p.Policy.ID, p.Policy.Name, backfill, p.CachedJobs, p.OpenJobs)
			continue
		}
		fmt.Fprintf(w, "policy %s (%q): refresh %s; backfill %s; pages read %d; jobs new %d, updated %d, dropped %d; cached %d, open %d\n",
			p.Policy.ID, p.Policy.Name, refresh, backfill, pagesOf(pages, p.Policy.ID),
			p.Changes.New, p.Changes.Updated, p.Changes.Dropped, p.CachedJobs, p.OpenJobs)
	}

	fmt.Fprintf(w, "\n\nMetrics that would have been returned:\n")
	reg := prometheus.NewRegistry()
	reg.MustRegister(snapshotsCollector{s}, own)
	mfs, err := reg.Gather()
	if err != nil {
		fmt.Fprintf(w, "Error gathering metrics: %v\n", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			fmt.Fprintf(w, "Error encoding %s: %v\n", mf.GetName(), err)
		}
	}
	_, _ = w.Write(buf.Bytes())
}

// pagesOf counts the task pages read for a policy: the answered requests
// whose path names it (/v2/{project}/backuppolicy/{policy}/backuptasks).
func pagesOf(pages map[string]int, policyID string) int {
	n := 0
	for path, c := range pages {
		if strings.Contains(path, "/backuppolicy/"+url.PathEscape(policyID)+"/") {
			n += c
		}
	}
	return n
}

// policyState describes a policy's last refresh ("ok", "failed" or
// "failed: ERR" with ERR cut to maxErr bytes) and its backfill ("complete"
// or "incomplete"), for the status page and the debug probe.
func policyState(p *store.PolicySnapshot, maxErr int) (refresh, backfill string) {
	refresh, backfill = "ok", "complete"
	if !p.RefreshSuccess {
		refresh = "failed"
		if p.Err != "" {
			refresh += ": " + hwcloud.Truncate(p.Err, maxErr)
		}
	}
	if !p.BackfillComplete {
		backfill = "incomplete"
	}
	return refresh, backfill
}
