// Package endpoints holds the default service hosts of Huawei Cloud regions:
// the one place that knows which host a service of a region answers on.
package endpoints

// Service names the Huawei Cloud services whose default hosts are known.
type Service string

// The services the exporter talks to.
const (
	VBS Service = "vbs"
	IAM Service = "iam"
	CBR Service = "cbr"
)

// Default returns the default base URL ("https://host") of service in region:
// the region table's entry when there is one, else
// "https://{service}.{region}.myhuaweicloud.com".
func Default(service Service, region string) string {
	return "https://" + string(service) + "." + region + ".myhuaweicloud.com"
}
