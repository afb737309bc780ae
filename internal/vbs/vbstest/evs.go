package vbstest

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
)

// OpListVolumes is GET /v2/{project_id}/cloudvolumes/detail, the EVS volume
// list the exporter reads disk names from.
const OpListVolumes = "list_volumes"

// Volume is an EVS disk as the simulator lists it.
type Volume struct {
	ID   string
	Name string
}

// VolumeName is the name the simulator gives a disk that SetVolumes did not
// name: "disk-" and the first 8 characters of its ID.
func VolumeName(id string) string {
	if len(id) > 8 {
		id = id[:8]
	}
	return "disk-" + id
}

// SetVolumes replaces the EVS volume list. Until it is called (or after it
// is called with nil), the list holds every distinct resource_id of the
// policies' jobs, named by VolumeName.
func (s *Server) SetVolumes(vols []Volume) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.volumes = slices.Clone(vols)
}

// volumeList returns the volume list sorted by ID. Callers hold s.mu.
func (s *Server) volumeList() []Volume {
	vols := slices.Clone(s.volumes)
	if vols == nil {
		seen := map[string]bool{}
		for _, ps := range s.policies {
			for i := range ps.jobs {
				if id := ps.jobs[i].ResourceID; id != "" && !seen[id] {
					seen[id] = true
					vols = append(vols, Volume{ID: id, Name: VolumeName(id)})
				}
			}
		}
	}
	slices.SortStableFunc(vols, func(a, b Volume) int { return cmp.Compare(a.ID, b.ID) })
	return vols
}

// listVolumes answers the volume list: sort_key "id" (the order served
// whatever the key) or absent, sort_dir "asc" or "desc", limit (default and
// largest 1000), offset (skips that many volumes). The answer is
// {"volumes":[{"id","name","status"}...],"count":N} with N the total.
func (s *Server) listVolumes(r *http.Request) response {
	m, err := parseRawQuery(r.URL.RawQuery)
	if err != nil {
		return vbsError(http.StatusBadRequest, codeInvalidParameter, "invalid query string")
	}
	limit, offset := 1000, 0
	if v, ok := m["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return vbsError(http.StatusBadRequest, codeInvalidParameter, "invalid limit")
		}
		limit = min(n, 1000)
	}
	if v, ok := m["offset"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return vbsError(http.StatusBadRequest, codeInvalidParameter, "invalid offset")
		}
		offset = n
	}
	s.mu.Lock()
	vols := s.volumeList()
	s.mu.Unlock()
	if m["sort_dir"] == "desc" {
		slices.Reverse(vols)
	}
	total := len(vols)
	vols = vols[min(offset, total):]
	vols = vols[:min(limit, len(vols))]
	b := []byte(`{"volumes":[`)
	for i, v := range vols {
		if i > 0 {
			b = append(b, ',')
		}
		o := objWriter{b: append(b, '{')}
		o.str("id", v.ID)
		o.str("name", v.Name)
		o.str("status", "in-use")
		b = append(o.b, '}')
	}
	b = append(b, `],"count":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, '}')
	return jsonResponse(http.StatusOK, b)
}
