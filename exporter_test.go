package main

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/vbs-exporter/vbs_exporter/collector"
	"github.com/vbs-exporter/vbs_exporter/config"
	"github.com/vbs-exporter/vbs_exporter/internal/hwcloud"
)

// fieldPaths returns the index path of every exported leaf field of struct
// type st, through structs and pointers to structs.
func fieldPaths(st reflect.Type, prefix []int) [][]int {
	var out [][]int
	for i := range st.NumField() {
		f := st.Field(i)
		if !f.IsExported() {
			continue
		}
		path := append(slices.Clone(prefix), i)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			out = append(out, fieldPaths(ft, path)...)
		} else {
			out = append(out, path)
		}
	}
	return out
}

// TestApplyRebuildsOnAnyChange changes every field of the effective target
// configuration in turn, found by reflection (so a new field is covered
// without touching this test), and checks that a reload rebuilds the target
// exactly when something changed — secret values included.
func TestApplyRebuildsOnAnyChange(t *testing.T) {
	base := config.Target{
		Name: "a", Region: "cn-north-4", ProjectID: "p1", Endpoint: "http://127.0.0.1:1/vbs",
		Auth: &config.Auth{AccessKey: "AK", SecretKey: "sk", SecurityToken: "tok", Domain: "d", User: "u",
			Password: "pw", IAMEndpoint: "http://127.0.0.1:2", AccessKeyFile: "f1", SecretKeyFile: "f2",
			SecurityTokenFile: "f3", PasswordFile: "f4"},
		Policies: []string{"p"}, Lookback: 72 * time.Hour, PageSize: 100, Concurrency: 4, MinRefreshInterval: time.Minute,
		EVSEndpoint: "http://127.0.0.1:3/evs",
		Credentials: config.Credentials{Kind: config.CredentialsAKSK, AccessKey: "AK", SecretKey: "sk", SecurityToken: "tok",
			IAMEndpoint: "http://127.0.0.1:2", Domain: "d", User: "u", Password: "pw", Source: config.SourceConfig},
	}
	clone := func(tc config.Target) config.Target {
		a := *tc.Auth
		tc.Auth, tc.Policies = &a, slices.Clone(tc.Policies)
		return tc
	}
	paths := fieldPaths(reflect.TypeOf(base), nil)
	if len(paths) < 25 {
		t.Fatalf("found only %d fields", len(paths))
	}
	for _, path := range paths {
		changed := clone(base)
		v := reflect.ValueOf(&changed).Elem()
		var names []string
		for _, i := range path {
			if v.Kind() == reflect.Pointer {
				v = v.Elem()
			}
			names = append(names, v.Type().Field(i).Name)
			v = v.Field(i)
		}
		name := strings.Join(names, ".")
		if name == "Name" {
			continue // another name is another target
		}
		switch v.Kind() {
		case reflect.String:
			v.SetString(v.String() + "x")
		case reflect.Int, reflect.Int64:
			v.SetInt(v.Int() + 1) // Credentials.Kind: AK/SK becomes password
		case reflect.Slice:
			v.Set(reflect.Append(v, reflect.ValueOf("x")))
		case reflect.Bool:
			v.SetBool(!v.Bool())
		default:
			t.Fatalf("field %s: no change for kind %s; extend this test", name, v.Kind())
		}

		e := newExporter(collector.NewAPIMetrics(), hwcloud.NewAKSKGates(), log.NewNopLogger(), nil)
		e.apply(&config.Config{Targets: []config.Target{clone(base)}})
		before, ok := e.get("a")
		if !ok {
			t.Fatalf("%s: base target not built", name)
		}
		e.apply(&config.Config{Targets: []config.Target{clone(base)}})
		if same, _ := e.get("a"); same != before {
			t.Fatalf("%s: an unchanged target was rebuilt", name)
		}
		e.apply(&config.Config{Targets: []config.Target{changed}})
		if after, _ := e.get("a"); after == before {
			t.Errorf("changing %s did not rebuild the target", name)
		}
	}
}
