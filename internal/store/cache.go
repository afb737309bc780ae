package store

import (
	"time"

	"github.com/vbs-exporter/vbs_exporter/internal/backup"
)

// statusCode is the compact form of a job status: a known backup.Status is
// its own code (below firstUnknownCode); each distinct undocumented status
// (backup.StatusUnknown, told apart by RawStatus) is interned per cache from
// firstUnknownCode on, so that a job moving between two undocumented
// statuses still counts as changed.
type statusCode uint16

// The codes of the statuses the derived statistics test for.
const (
	codeSuccess      = statusCode(backup.StatusSuccess)
	codeFail         = statusCode(backup.StatusFail)
	codeTimeout      = statusCode(backup.StatusTimeout)
	firstUnknownCode = statusCode(backup.StatusUnknown)
)

// status returns the backup.Status a code stands for.
func (c statusCode) status() backup.Status {
	if c < firstUnknownCode {
		return backup.Status(c)
	}
	return backup.StatusUnknown
}

// terminal reports whether a job in this status can no longer change.
func (c statusCode) terminal() bool { return c.status().Terminal() }

// failed reports whether the job ended in failure: EXECUTE_FAIL or
// EXECUTE_TIMEOUT.
func (c statusCode) failed() bool { return c.status().Failed() }

// inFlight reports whether the job is queued or running.
func (c statusCode) inFlight() bool {
	return c.status() == backup.StatusRunning || c.status() == backup.StatusWaiting
}

// cachedJob is one backup job in 24 bytes: times in Unix milliseconds (0 when
// unknown), the interned resource and the status code.
type cachedJob struct {
	created  int64
	finished int64
	resource uint32
	status   statusCode
}

// resourceKey identifies a disk within a policy.
type resourceKey struct {
	ID   string
	Type string
}

// jobCache holds the jobs of one policy inside its lookback window, keyed by
// job ID. Job IDs that are UUIDs are stored as 16 bytes; any other ID (or a
// synthetic key for jobs that lack one) as a string.
type jobCache struct {
	jobs    []cachedJob
	uuidIdx map[[16]byte]uint32
	strIdx  map[string]uint32
	resIdx  map[resourceKey]uint32
	res     []resourceKey
	unknown []string // raw status values outside the documented set, by code-firstUnknownCode
	// open holds the keys of the jobs whose status is not terminal, so that a
	// refresh finds them without scanning the cache.
	open map[jobRef]struct{}
	// fails holds, by index into jobs, what the API said about each job
	// that failed or timed out; other jobs have no entry, so the cache grows
	// only with failures.
	fails map[uint32]failDetail
	// texts interns the codes and messages of fails: the failures of a
	// policy mostly repeat a few texts.
	texts map[string]string
}

// failDetail is the part of a failed job kept beyond its cachedJob: its ID,
// and its code and message as cleanText left them.
type failDetail struct {
	jobID, code, message string
}

func newJobCache() *jobCache {
	return &jobCache{
		uuidIdx: make(map[[16]byte]uint32),
		strIdx:  make(map[string]uint32),
		resIdx:  make(map[resourceKey]uint32),
		open:    make(map[jobRef]struct{}),
		fails:   make(map[uint32]failDetail),
	}
}

// jobRef is a parsed job key: either a UUID or a string.
type jobRef struct {
	uuid   [16]byte
	isUUID bool
	str    string
}

// refOf returns the cache key of a job: its ID, or for a job without one,
// its disk and creation time (one job per disk per scheduled run).
func refOf(t *backup.Job) jobRef {
	if t.ID == "" {
		return jobRef{str: "\x00" + t.ResourceID + "\x00" + t.ResourceType + "\x00" + t.Created.Format(time.RFC3339Nano)}
	}
	if u, ok := parseUUID(t.ID); ok {
		return jobRef{uuid: u, isUUID: true}
	}
	return jobRef{str: t.ID}
}

// parseUUID parses the canonical lowercase 8-4-4-4-12 form only, so that two
// different ID strings never share a key.
func parseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < 36; {
		if s[i] == '-' {
			i++
			continue
		}
		hi, lo := unhexLower(s[i]), unhexLower(s[i+1])
		if hi < 0 || lo < 0 {
			return u, false
		}
		u[j] = byte(hi<<4 | lo)
		j++
		i += 2
	}
	return u, true
}

func unhexLower(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

func (c *jobCache) lookup(r jobRef) (uint32, bool) {
	if r.isUUID {
		i, ok := c.uuidIdx[r.uuid]
		return i, ok
	}
	i, ok := c.strIdx[r.str]
	return i, ok
}

func (c *jobCache) len() int { return len(c.jobs) }

// statusCodeOf returns the code of a status; raw tells undocumented
// statuses apart.
func (c *jobCache) statusCodeOf(st backup.Status, s string) statusCode {
	if st != backup.StatusUnknown && int(st) < backup.NumStatuses {
		return statusCode(st)
	}
	for i, u := range c.unknown {
		if u == s {
			return firstUnknownCode + statusCode(i)
		}
	}
	c.unknown = append(c.unknown, s)
	return firstUnknownCode + statusCode(len(c.unknown)-1)
}

func (c *jobCache) resourceOf(id, typ string) uint32 {
	k := resourceKey{ID: id, Type: typ}
	if i, ok := c.resIdx[k]; ok {
		return i
	}
	i := uint32(len(c.res))
	c.res = append(c.res, k)
	c.resIdx[k] = i
	return i
}

// upsert stores t under r, replacing an earlier version of the same job. It
// reports whether anything changed. d is kept for a failed or timed-out job
// and dropped otherwise.
func (c *jobCache) upsert(r jobRef, t *backup.Job, created time.Time, d failDetail) bool {
	j := cachedJob{
		created:  unixMilli(created),
		finished: unixMilli(t.Finished),
		resource: c.resourceOf(t.ResourceID, t.ResourceType),
		status:   c.statusCodeOf(t.Status, t.RawStatus),
	}
	if i, ok := c.lookup(r); ok {
		old := c.jobs[i]
		oldD, hadD := c.fails[i]
		if old == j && (!j.status.failed() && !hadD || j.status.failed() && hadD && oldD == d) {
			return false
		}
		c.jobs[i] = j
		c.track(r, j)
		c.setFail(i, j, d)
		return true
	}
	c.insert(r, j)
	c.setFail(uint32(len(c.jobs)-1), j, d)
	return true
}

// setFail keeps d for job i when the job failed, and forgets it otherwise.
func (c *jobCache) setFail(i uint32, j cachedJob, d failDetail) {
	if j.status.failed() {
		d.code, d.message = c.intern(d.code), c.intern(d.message)
		c.fails[i] = d
	} else {
		delete(c.fails, i)
	}
}

// intern returns the cache's copy of s.
func (c *jobCache) intern(s string) string {
	if s == "" {
		return ""
	}
	if c.texts == nil {
		c.texts = make(map[string]string)
	}
	if t, ok := c.texts[s]; ok {
		return t
	}
	c.texts[s] = s
	return s
}

// failedJob returns what is kept of job i's failure.
func (c *jobCache) failedJob(i uint32) failDetail { return c.fails[i] }

// forEach calls fn for every cached job with its key.
func (c *jobCache) forEach(fn func(r jobRef, j cachedJob)) {
	for k, i := range c.uuidIdx {
		fn(jobRef{uuid: k, isUUID: true}, c.jobs[i])
	}
	for k, i := range c.strIdx {
		fn(jobRef{str: k}, c.jobs[i])
	}
}

// insert appends a job that is not cached yet.
func (c *jobCache) insert(r jobRef, j cachedJob) {
	i := uint32(len(c.jobs))
	c.jobs = append(c.jobs, j)
	if r.isUUID {
		c.uuidIdx[r.uuid] = i
	} else {
		c.strIdx[r.str] = i
	}
	c.track(r, j)
}

// track keeps open in step with the job's status.
func (c *jobCache) track(r jobRef, j cachedJob) {
	if j.status.terminal() {
		delete(c.open, r)
	} else {
		c.open[r] = struct{}{}
	}
}

// nonTerminal returns the keys and creation times of the cached jobs whose
// status may still change.
func (c *jobCache) nonTerminal() map[jobRef]int64 {
	out := make(map[jobRef]int64, len(c.open))
	for r := range c.open {
		i, _ := c.lookup(r)
		out[r] = c.jobs[i].created
	}
	return out
}

// retain keeps the jobs for which keep returns true, compacting storage and
// dropping resources and unknown statuses that no job uses any more. It
// reports whether anything was removed.
func (c *jobCache) retain(keep func(r jobRef, j cachedJob) bool) bool {
	n := 0
	c.forEach(func(r jobRef, j cachedJob) {
		if keep(r, j) {
			n++
		}
	})
	if n == len(c.jobs) {
		return false
	}
	old := c
	fresh := &jobCache{
		jobs:    make([]cachedJob, 0, n),
		uuidIdx: make(map[[16]byte]uint32, n),
		strIdx:  make(map[string]uint32),
		resIdx:  make(map[resourceKey]uint32),
		open:    make(map[jobRef]struct{}),
		fails:   make(map[uint32]failDetail),
	}
	old.forEach(func(r jobRef, j cachedJob) {
		if !keep(r, j) {
			return
		}
		if oi, _ := old.lookup(r); j.status.failed() {
			d := old.fails[oi]
			d.code, d.message = fresh.intern(d.code), fresh.intern(d.message)
			fresh.fails[uint32(len(fresh.jobs))] = d
		}
		rk := old.res[j.resource]
		j.resource = fresh.resourceOf(rk.ID, rk.Type)
		if j.status >= firstUnknownCode {
			j.status = fresh.statusCodeOf(backup.StatusUnknown, old.unknown[j.status-firstUnknownCode])
		}
		fresh.insert(r, j)
	})
	*c = *fresh
	return true
}

// statusOf returns the service's word for the status a code stands for:
// the label of a known status, the raw value of an undocumented one.
func (c *jobCache) statusOf(code statusCode) string {
	if code < firstUnknownCode {
		return backup.Status(code).String()
	}
	return c.unknown[code-firstUnknownCode]
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// jobID returns the API's job ID of a key, and false for the synthetic key
// of a job that has none.
func (r jobRef) jobID() (string, bool) {
	if r.isUUID {
		const hexDigits = "0123456789abcdef"
		b := make([]byte, 0, 36)
		for i, c := range r.uuid {
			if i == 4 || i == 6 || i == 8 || i == 10 {
				b = append(b, '-')
			}
			b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
		}
		return string(b), true
	}
	if len(r.str) > 0 && r.str[0] == 0 {
		return "", false
	}
	return r.str, true
}
