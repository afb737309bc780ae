package config

import "testing"

// TestRegionEndpoints: default hosts come from the vendor SDK's region table
// (internal/endpoints), eu-west-101's IAM on the .eu site; explicit endpoint
// and iam_endpoint win.
func TestRegionEndpoints(t *testing.T) {
	yml := `targets:
  - name: eu
    region: eu-west-101
    project_id: p1
    auth: {domain: d, user: u, password: pw}
  - name: explicit
    region: eu-west-101
    project_id: p2
    endpoint: https://vbs.example.com
    auth: {domain: d, user: u, password: pw, iam_endpoint: https://iam.example.com}
`
	c, err := Parse([]byte(yml), "config.yml", "", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][2]string{
		{"https://vbs.eu-west-101.myhuaweicloud.com", "https://iam.eu-west-101.myhuaweicloud.eu"},
		{"https://vbs.example.com", "https://iam.example.com"},
	} {
		tg := c.Targets[i]
		if tg.Endpoint != want[0] || tg.Credentials.IAMEndpoint != want[1] {
			t.Errorf("%s: endpoint %q, IAM %q; want %q, %q", tg.Name, tg.Endpoint, tg.Credentials.IAMEndpoint, want[0], want[1])
		}
	}
}
