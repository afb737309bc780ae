// Package evs is a small client for the Huawei Cloud Elastic Volume Service
// (EVS) API: it reads the project's volume list, only for the disks' names
// (the exporter's resource_names setting). It uses the request engine and
// credentials of package hwcloud and needs only read permission on EVS
// (evs:volumes:list).
package evs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/vbs-exporter/vbs_exporter/internal/endpoints"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// OpListVolumes is the operation name (hwcloud.APIError.Operation,
// hwcloud.RequestEvent.Operation) of GET /v2/{project_id}/cloudvolumes/detail.
const OpListVolumes = "list_volumes"

// Defaults and limits of Options.
const (
	// DefaultPageSize is Options.PageSize's default: the API's default and
	// largest limit.
	DefaultPageSize = 1000
	// DefaultMaxPages is Options.MaxPages's default.
	DefaultMaxPages = 1000
	// MaxNameLen caps a volume name as ResourceNames returns it, in bytes.
	MaxNameLen  = 255
	maxPageSize = 1000
)

// Options configures a Client for one project. Zero values select the
// defaults given per field.
type Options struct {
	// Region gives the default Endpoint from the endpoints table
	// ("https://evs.{region}.myhuaweicloud.com", .eu for eu-west-101).
	Region string
	// Endpoint overrides the default; a path prefix is kept.
	Endpoint string
	// ProjectID is required; it is sent in the path and as X-Project-Id.
	ProjectID string
	// Auth is required: hwcloud.NewAKSK, NewStaticToken or NewPasswordAuth.
	Auth hwcloud.Authenticator
	// Engine configures the requests: HTTP client, attempts, response body
	// limit, back-off and User-Agent (see hwcloud.EngineOptions for the
	// defaults).
	Engine hwcloud.EngineOptions
	// Observer, when not nil, is called after every HTTP attempt.
	Observer func(hwcloud.RequestEvent)
	// PageSize is the limit of each page, default and maximum 1000.
	PageSize int
	// MaxPages caps the pages of one listing, default 1000.
	MaxPages int
}

// Volume is one EVS disk, with the fields the exporter uses.
type Volume struct {
	ID   string
	Name string
}

// Client reads one project's EVS volume list. It is safe for concurrent use.
type Client struct {
	projectID string
	base      *url.URL
	auth      hwcloud.Authenticator
	eng       *hwcloud.Engine
	observer  func(hwcloud.RequestEvent)
	pageSize  int
	maxPages  int
}

// New returns a Client, checking the options and filling in defaults.
func New(o Options) (*Client, error) {
	if err := hwcloud.CheckPathSegment("project ID", o.ProjectID); err != nil {
		return nil, fmt.Errorf("evs: %w", err)
	}
	switch {
	case o.Auth == nil:
		return nil, errors.New("evs: no Authenticator (Options.Auth)")
	case o.PageSize < 0 || o.PageSize > maxPageSize:
		return nil, fmt.Errorf("evs: Options.PageSize must be between 0 and %d", maxPageSize)
	case o.MaxPages < 0:
		return nil, errors.New("evs: Options.MaxPages is negative")
	}
	base, err := hwcloud.EndpointURL(o.Endpoint, o.Region, endpoints.EVS)
	if err != nil {
		return nil, fmt.Errorf("evs: endpoint: %w", err)
	}
	eng, err := hwcloud.NewEngine(o.Engine)
	if err != nil {
		return nil, fmt.Errorf("evs: %w", err)
	}
	return &Client{
		projectID: o.ProjectID, base: base, auth: o.Auth, eng: eng, observer: o.Observer,
		pageSize: cmp.Or(o.PageSize, DefaultPageSize), maxPages: cmp.Or(o.MaxPages, DefaultMaxPages),
	}, nil
}

// CloseIdleConnections closes idle connections of the engine (the
// Authenticator's are its owner's, usually shared with the VBS client).
func (c *Client) CloseIdleConnections() { c.eng.CloseIdleConnections() }

// String describes the client without secrets.
func (c *Client) String() string {
	return fmt.Sprintf("evs.Client(project %q, endpoint %s, auth %v)", c.projectID, c.base.Redacted(), c.auth)
}

// page fetches one page of the volume list; items counts every item of the
// page, those without a usable ID included.
func (c *Client) page(ctx context.Context, offset int) (vols []Volume, items, count int, err error) {
	q := url.Values{"limit": {strconv.Itoa(c.pageSize)}, "sort_key": {"id"}, "sort_dir": {"asc"}}
	if offset > 0 {
		// The API documents offset as greater than 0: the first page has none.
		q.Set("offset", strconv.Itoa(offset))
	}
	count = -1
	err = c.eng.Do(ctx, &hwcloud.Request{
		Op:     OpListVolumes,
		Method: http.MethodGet,
		URL:    hwcloud.JoinPath(c.base, []string{"v2", c.projectID, "cloudvolumes", "detail"}, q),
		Header: http.Header{"X-Project-Id": {c.projectID}},
		Auth:   c.auth,
		Decode: func(_ http.Header, data []byte) error {
			var err error
			vols, items, count, err = DecodeVolumes(data)
			return err
		},
		Observe: c.observer,
	})
	return vols, items, count, err
}

// Volumes lists every volume of the project
// (GET /v2/{project_id}/cloudvolumes/detail, sorted by ID, paged with limit
// and offset). Offsets count every item the server sent, items without a
// usable ID included. The walk ends on an empty page, once offset reaches
// "count" (documented as the total, whatever the paging), or, when the
// answer has no count, on a page shorter than the limit. A volume listed
// twice (the list shifted between pages) is kept once, the later copy
// winning. A page whose valid volumes were all listed before, or more than
// MaxPages pages, is an error.
func (c *Client) Volumes(ctx context.Context) ([]Volume, error) {
	var out []Volume
	index := map[string]int{}
	offset := 0
	for page := 1; ; page++ {
		if page > c.maxPages {
			return nil, fmt.Errorf("%s: more than %d pages (Options.MaxPages)", OpListVolumes, c.maxPages)
		}
		vols, items, count, err := c.page(ctx, offset)
		if err != nil {
			return nil, err
		}
		if items == 0 {
			return out, nil
		}
		fresh := 0
		for _, v := range vols {
			if i, ok := index[v.ID]; ok {
				out[i] = v
				continue
			}
			fresh++
			index[v.ID] = len(out)
			out = append(out, v)
		}
		if fresh == 0 && len(vols) > 0 {
			return nil, fmt.Errorf("%s: page %d (offset %d) holds only volumes already listed: the API ignored offset", OpListVolumes, page, offset)
		}
		offset += items
		if count >= 0 && offset >= count || count < 0 && items < c.pageSize {
			return out, nil
		}
	}
}

// ResourceNames returns the name of every volume that has one, by volume ID
// (the resource_id of VBS jobs). Names pass through hwcloud.CleanText (the
// client's secrets redacted, control characters folded, at most MaxNameLen
// bytes): they become label values.
func (c *Client) ResourceNames(ctx context.Context) (map[string]string, error) {
	vols, err := c.Volumes(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(vols))
	for _, v := range vols {
		if n := hwcloud.CleanText(c.auth, v.Name, MaxNameLen); n != "" {
			names[v.ID] = n
		}
	}
	return names, nil
}

// Operation names the client's request in logs of errors that do not carry
// their own: OpListVolumes.
func (c *Client) Operation() string { return OpListVolumes }
