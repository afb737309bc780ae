package evs

import (
	"os"
	"reflect"
	"testing"
)

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestDecodeVolumes(t *testing.T) {
	vols, items, count, err := DecodeVolumes(readTestdata(t, "volumes.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Volume{
		{ID: "0b4c6a6e-0c1c-4f7a-9b0e-3c5f5c2f7a01", Name: "db-data-01"},
		{ID: "2f9d1c44-5a5b-4a1e-8f57-7d1e0c9b6a22", Name: ""},
		{ID: "7a3e9b10-1d2c-4e5f-a6b7-c8d9e0f1a233", Name: "web-01 system\x00disk"},
	}
	if items != 3 || count != 3 || !reflect.DeepEqual(vols, want) {
		t.Errorf("got %d items, count %d, %+v; want 3, 3, %+v", items, count, vols, want)
	}
}

func TestDecodeVolumesTolerant(t *testing.T) {
	for _, tt := range []struct {
		in    string
		vols  []Volume
		items int
		count int
	}{
		{`{}`, nil, 0, -1},
		{`{"volumes":null,"count":0}`, nil, 0, 0},
		{`{"volumes":[],"count":"12"}`, []Volume{}, 0, 12},
		{`{"volumes":[1,null,"x",{"name":"no id"},{"id":""},{"id":42,"name":7},{"id":" a ","name":"n"}],"count":-3}`,
			[]Volume{{ID: "42"}, {ID: "a", Name: "n"}}, 7, -1},
		{`{"volumes":[{"id":"v","name":{"x":1}}],"count":1.5}`, []Volume{{ID: "v"}}, 1, -1},
		{`{"volumes":[{},{"id":null}],"count":2}`, []Volume{}, 2, 2},
	} {
		vols, items, count, err := DecodeVolumes([]byte(tt.in))
		if err != nil || items != tt.items || count != tt.count || !reflect.DeepEqual(vols, tt.vols) {
			t.Errorf("DecodeVolumes(%s) = %#v, %d items, count %d, %v; want %#v, %d, %d", tt.in, vols, items, count, err, tt.vols, tt.items, tt.count)
		}
	}
}

func TestDecodeVolumesErrors(t *testing.T) {
	for in, want := range map[string]string{
		`null`:                 "decoding the volume list: the body is null",
		`[]`:                   "decoding the volume list: json: cannot unmarshal array into Go value of type struct { Volumes json.RawMessage \"json:\\\"volumes\\\"\"; Count json.RawMessage \"json:\\\"count\\\"\" }",
		`{"volumes":{"id":1}}`: "decoding the volume list: \"volumes\" is not an array: json: cannot unmarshal object into Go value of type []json.RawMessage",
		`{"volumes":[`:         "decoding the volume list: unexpected end of JSON input",
	} {
		vols, _, _, err := DecodeVolumes([]byte(in))
		if err == nil || err.Error() != want || vols != nil {
			t.Errorf("DecodeVolumes(%s) = %v, %v; want error %q", in, vols, err, want)
		}
	}
}
