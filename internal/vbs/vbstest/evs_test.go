package vbstest

import (
	"io"
	"net/http"
	"testing"
)

func TestListVolumes(t *testing.T) {
	s := NewServer(Options{SkipAuth: true})
	defer s.Close()
	s.Load(Scenario{Policies: []Policy{{ID: "p"}}, Jobs: map[string][]Job{"p": {
		{JobID: "1", ResourceID: "bbbbbbbb-2", Status: StatusExecuteSuccess},
		{JobID: "2", ResourceID: "aaaaaaaaa-1", Status: StatusExecuteFail},
		{JobID: "3", ResourceID: "bbbbbbbb-2", Status: StatusExecuteSuccess},
		{JobID: "4", ResourceID: "", Status: StatusExecuteSuccess},
	}}})
	get := func(query string) (int, string) {
		t.Helper()
		resp, err := s.Client().Get(s.URL() + "/v2/" + s.Options().ProjectID + "/cloudvolumes/detail" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tt := range []struct{ query, want string }{
		{"", `{"volumes":[{"id":"aaaaaaaaa-1","name":"disk-aaaaaaaa","status":"in-use"},{"id":"bbbbbbbb-2","name":"disk-bbbbbbbb","status":"in-use"}],"count":2}`},
		{"?limit=1&offset=1&sort_key=id&sort_dir=asc", `{"volumes":[{"id":"bbbbbbbb-2","name":"disk-bbbbbbbb","status":"in-use"}],"count":2}`},
		{"?sort_dir=desc&limit=1", `{"volumes":[{"id":"bbbbbbbb-2","name":"disk-bbbbbbbb","status":"in-use"}],"count":2}`},
		{"?offset=5", `{"volumes":[],"count":2}`},
		{"?limit=0", `{"error":{"code":"VolumeBackup.0001","message":"invalid limit"}}`},
	} {
		if _, body := get(tt.query); body != tt.want {
			t.Errorf("%s: %s, want %s", tt.query, body, tt.want)
		}
	}
	s.SetVolumes([]Volume{{ID: "z", Name: "named"}})
	if _, body := get(""); body != `{"volumes":[{"id":"z","name":"named","status":"in-use"}],"count":1}` {
		t.Errorf("after SetVolumes: %s", body)
	}
	if n := s.Requests(OpListVolumes); n != 6 {
		t.Errorf("Requests(OpListVolumes) = %d, want 6", n)
	}

	auth := NewServer(Options{})
	defer auth.Close()
	resp, err := auth.Client().Get(auth.URL() + "/v2/" + auth.Options().ProjectID + "/cloudvolumes/detail")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned request: %d, want 401", resp.StatusCode)
	}
}

func TestDemoScenarioNamesEveryDisk(t *testing.T) {
	sc := DemoScenario(defaultGenNow())
	names := map[string]string{}
	for _, v := range sc.Volumes {
		names[v.ID] = v.Name
	}
	disks := map[string]bool{}
	for _, jobs := range sc.Jobs {
		for _, j := range jobs {
			disks[j.ResourceID] = true
			if names[j.ResourceID] == "" {
				t.Fatalf("disk %s has no name", j.ResourceID)
			}
		}
	}
	if len(disks) != 20 || len(names) != 20 {
		t.Errorf("%d disks, %d names; want 20 of each", len(disks), len(names))
	}
	if names[hashUUID(20261127, tagVolume, 0, 5)] != "db-data-06" {
		t.Errorf("daily-db-volumes disk 5 is %q, want db-data-06", names[hashUUID(20261127, tagVolume, 0, 5)])
	}
}
