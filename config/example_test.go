package config_test

import (
	"fmt"

	"github.com/vbs-exporter/vbs_exporter/config"
)

func ExampleParse() {
	yml := `targets:
  - name: prod
    region: cn-north-4
    project_id: 0605767f2f00d5d22f16c00e4e8f1d4a
    auth:
      access_key: AKEXAMPLE
      secret_key: do-not-print-me
    lookback: 7d
`
	c, err := config.Parse([]byte(yml), "config.yml", "", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	t := c.Targets[0]
	fmt.Println(t.Endpoint, t.Lookback, t.PageSize, t.Credentials.Kind, t.Credentials.SecretKey)
	out, _ := c.Redacted()
	fmt.Print(string(out))
	// Output:
	// https://vbs.cn-north-4.myhuaweicloud.com 168h0m0s 100 aksk <secret>
	// targets:
	//   - name: prod # credentials: AK/SK
	//     region: cn-north-4
	//     project_id: 0605767f2f00d5d22f16c00e4e8f1d4a
	//     service: vbs
	//     endpoint: https://vbs.cn-north-4.myhuaweicloud.com
	//     auth:
	//       access_key: AKEXAMPLE
	//       secret_key: <secret>
	//     lookback: 1w
	//     page_size: 100
	//     concurrency: 4
	//     min_refresh_interval: 0s
}

func ExampleParse_errors() {
	yml := `targets:
  - name: prod
    region: cn-north-4
    project_id: p1
    lookback: 7x
    auth:
      access_key: AKEXAMPLE
      user: backup-monitor
`
	_, err := config.Parse([]byte(yml), "config.yml", "", nil)
	fmt.Println(err)
	// Output:
	// config.yml:5: target "prod": field lookback: invalid duration (examples: 90s, 30m, 168h, 7d, 1w): unknown unit "x" in duration "7x"
	// config.yml:6: target "prod": field auth: both AK/SK (access_key) and IAM password (user) are set; choose one
}
