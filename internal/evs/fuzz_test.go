package evs

import "testing"

// The seed corpus runs as an ordinary test with go test; go test
// -fuzz=FuzzDecodeVolumes explores further.
func FuzzDecodeVolumes(f *testing.F) {
	f.Add(readTestdata(f, "volumes.json"))
	for _, s := range []string{`{"volumes":[{}]}`, `{"volumes":null}`, `{"volumes":[{"id":1e400,"name":"x"}],"count":1e400}`,
		`{"volumes":[{"id":"a"},{"id":"a"}],"count":"-1"}`, `{"volumes":"x"}`, `[`, `null`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vols, items, count, err := DecodeVolumes(data)
		if err != nil {
			if vols != nil {
				t.Fatal("volumes returned with an error")
			}
			return
		}
		if count < -1 || items < len(vols) {
			t.Fatalf("count %d, %d items, %d volumes", count, items, len(vols))
		}
		for _, v := range vols {
			if v.ID == "" {
				t.Fatal("a volume without ID")
			}
		}
	})
}
