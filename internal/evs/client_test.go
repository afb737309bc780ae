package evs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
	"github.com/vbs-exporter/vbs_exporter/internal/vbs/vbstest"
)

func newTestClient(t *testing.T, srv *vbstest.Server, pageSize int, observe func(hwcloud.RequestEvent)) *Client {
	t.Helper()
	so := srv.Options()
	c, err := New(Options{
		Endpoint: srv.URL(), ProjectID: so.ProjectID, Auth: hwcloud.NewAKSK(so.AccessKey, so.SecretKey, ""),
		Engine: hwcloud.EngineOptions{HTTPClient: srv.Client(), MaxAttempts: 1}, PageSize: pageSize, Observer: observe,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVolumesPagesSigned(t *testing.T) {
	srv := vbstest.NewServer(vbstest.Options{})
	defer srv.Close()
	var vols []vbstest.Volume
	want := map[string]string{}
	for i := range 5 {
		id := fmt.Sprintf("vol-%d", i)
		name := fmt.Sprintf("data-%d", i)
		if i == 3 {
			name = "" // unnamed: left out
		} else {
			want[id] = name
		}
		vols = append(vols, vbstest.Volume{ID: id, Name: name})
	}
	srv.SetVolumes(vols)
	var ops []string
	c := newTestClient(t, srv, 2, func(e hwcloud.RequestEvent) { ops = append(ops, fmt.Sprintf("%s %d", e.Operation, e.StatusCode)) })
	got, err := c.ResourceNames(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("names %v, want %v", got, want)
	}
	// 5 volumes in pages of 2: count (5) ends the walk after the third page.
	log := srv.RequestLog(vbstest.OpListVolumes)
	var queries []string
	for _, r := range log {
		if r.Auth != "aksk" || r.Status != http.StatusOK || r.Path != "/v2/"+srv.Options().ProjectID+"/cloudvolumes/detail" {
			t.Errorf("request %+v", r)
		}
		queries = append(queries, r.RawQuery)
	}
	wantQ := []string{"limit=2&sort_dir=asc&sort_key=id", "limit=2&offset=2&sort_dir=asc&sort_key=id", "limit=2&offset=4&sort_dir=asc&sort_key=id"}
	if !reflect.DeepEqual(queries, wantQ) {
		t.Errorf("queries %q, want %q", queries, wantQ)
	}
	if want := []string{"list_volumes 200", "list_volumes 200", "list_volumes 200"}; !reflect.DeepEqual(ops, want) {
		t.Errorf("observed %q, want %q", ops, want)
	}
}

func TestVolumesDefaultFromJobs(t *testing.T) {
	srv := vbstest.NewServer(vbstest.Options{})
	defer srv.Close()
	srv.Load(vbstest.Scenario{
		Policies: []vbstest.Policy{{ID: "p1", Name: "daily"}},
		Jobs: map[string][]vbstest.Job{"p1": {
			{JobID: "j1", ResourceID: "0b4c6a6e-0c1c-4f7a-9b0e-3c5f5c2f7a01", ResourceType: "volume", Status: vbstest.StatusExecuteSuccess},
			{JobID: "j2", ResourceID: "0b4c6a6e-0c1c-4f7a-9b0e-3c5f5c2f7a01", ResourceType: "volume", Status: vbstest.StatusExecuteSuccess},
		}},
	})
	got, err := newTestClient(t, srv, 0, nil).ResourceNames(context.Background())
	if want := map[string]string{"0b4c6a6e-0c1c-4f7a-9b0e-3c5f5c2f7a01": "disk-0b4c6a6e"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("names %v, %v; want %v", got, err, want)
	}
}

func TestVolumesErrors(t *testing.T) {
	srv := vbstest.NewServer(vbstest.Options{})
	defer srv.Close()
	srv.SetVolumes([]vbstest.Volume{{ID: "a", Name: "x"}})
	srv.AddFault(vbstest.Fault{Operation: vbstest.OpListVolumes, Status: http.StatusForbidden,
		Body: `{"error_code":"EVS.0001","error_msg":"no permission evs:volumes:list"}`})
	_, err := newTestClient(t, srv, 0, nil).ResourceNames(context.Background())
	var apiErr *hwcloud.APIError
	if !errors.As(err, &apiErr) || apiErr.Operation != OpListVolumes || apiErr.StatusCode != http.StatusForbidden || apiErr.Code != "EVS.0001" {
		t.Fatalf("err = %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	auth := hwcloud.NewStaticToken("token-value")
	for _, tt := range []struct {
		o    Options
		want string
	}{
		{Options{Region: "cn-north-4", Auth: auth}, "evs: project ID is empty"},
		{Options{Region: "cn-north-4", ProjectID: "a/b", Auth: auth}, `evs: project ID "a/b" is not a valid path segment`},
		{Options{Region: "cn-north-4", ProjectID: "p"}, "evs: no Authenticator (Options.Auth)"},
		{Options{Region: "cn-north-4", ProjectID: "p", Auth: auth, PageSize: 1001}, "evs: Options.PageSize must be between 0 and 1000"},
	} {
		if _, err := New(tt.o); err == nil || err.Error() != tt.want {
			t.Errorf("New(%+v) = %v, want %q", tt.o, err, tt.want)
		}
	}
	c, err := New(Options{Region: "eu-west-101", ProjectID: "p", Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	if u := c.base.String(); u != "https://evs.eu-west-101.myhuaweicloud.eu" {
		t.Errorf("default endpoint %s", u)
	}
	if s := c.String(); strings.Contains(s, "token-value") {
		t.Errorf("String() leaks the token: %s", s)
	}
}

// TestVolumesIgnoredOffset: a server that serves the first page again for
// every offset ends the walk with an error, not a loop.
func TestVolumesIgnoredOffset(t *testing.T) {
	srv := vbstest.NewServer(vbstest.Options{SkipAuth: true})
	defer srv.Close()
	srv.SetVolumes([]vbstest.Volume{{ID: "a", Name: "x"}, {ID: "b", Name: "y"}, {ID: "c", Name: "z"}})
	hs := http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		q := r.URL.Query()
		q.Del("offset")
		u := *r.URL
		u.RawQuery = q.Encode()
		r2 := r.Clone(r.Context())
		r2.URL = &u
		return srv.Client().Transport.RoundTrip(r2)
	})}
	c, err := New(Options{Endpoint: srv.URL(), ProjectID: srv.Options().ProjectID, Auth: hwcloud.NewStaticToken("t"), Engine: hwcloud.EngineOptions{HTTPClient: &hs}, PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Volumes(context.Background())
	if want := "list_volumes: page 2 (offset 2) holds only volumes already listed: the API ignored offset"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestVolumesInvalidItems: items without a usable ID still count for the
// offset and for the short-page rule, with or without "count": pages do not
// overlap, a full page of invalid items does not end the walk, and every
// valid volume is listed.
func TestVolumesInvalidItems(t *testing.T) {
	pages := map[string]string{
		"":  `[{"id":"a"},{"name":"no id"},{"id":"b"}]`,
		"3": `[{"id":"c"},{},{"id":"d"}]`,
		"6": `[{"id":""},{"id":null},{"x":1}]`,
		"9": `[{"id":"e","name":"last"}]`,
	}
	for _, tt := range []struct {
		name  string
		count string
	}{{"no count", ""}, {"count", `,"count":10`}} {
		t.Run(tt.name, func(t *testing.T) {
			var offsets []string
			hs := http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				off := r.URL.Query().Get("offset")
				offsets = append(offsets, off)
				body, ok := pages[off]
				if !ok {
					body = `[]`
				}
				return &http.Response{
					StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
					Body: io.NopCloser(strings.NewReader(`{"volumes":` + body + tt.count + `}`)), Request: r,
				}, nil
			})}
			c, err := New(Options{Endpoint: "http://127.0.0.1:1", ProjectID: "p", Auth: hwcloud.NewStaticToken("t"), Engine: hwcloud.EngineOptions{HTTPClient: &hs, MaxAttempts: 1}, PageSize: 3})
			if err != nil {
				t.Fatal(err)
			}
			vols, err := c.Volumes(context.Background())
			want := []Volume{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}, {ID: "e", Name: "last"}}
			if err != nil || !reflect.DeepEqual(vols, want) {
				t.Errorf("Volumes() = %+v, %v; want %+v", vols, err, want)
			}
			if want := []string{"", "3", "6", "9"}; !reflect.DeepEqual(offsets, want) {
				t.Errorf("offsets %q, want %q", offsets, want)
			}
		})
	}
}
