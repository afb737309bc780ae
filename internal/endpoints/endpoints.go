// Package endpoints holds the default service hosts of Huawei Cloud regions:
// the one place that knows which host a service of a region answers on.
//
// The table holds the regions that the vendor's Go SDK
// (github.com/huaweicloud/huaweicloud-sdk-go-v3, services/iam/v3/region and
// services/cbr/v1/region, as of commit 1cd70eb6f of 2026-03-13, and
// services/evs/v2/region as of commit 12f14eecf) lists for IAM, CBR and
// EVS, with the site domain each answers on. That SDK has no VBS
// client; VBS, and any region or service the table does not know, use the
// pattern "https://{service}.{region}.myhuaweicloud.com".
package endpoints

// Service names the Huawei Cloud services whose default hosts are known.
type Service string

// The services the exporter talks to.
const (
	VBS Service = "vbs"
	IAM Service = "iam"
	CBR Service = "cbr"
	// EVS is the Elastic Volume Service, read for disk names.
	EVS Service = "evs"
)

// Site domains.
const (
	siteCom = "myhuaweicloud.com" // Huawei Cloud (China and international)
	siteEU  = "myhuaweicloud.eu"  // Huawei Cloud Europe (eu-west-101)
)

// sites maps each region the vendor's SDK lists for IAM, CBR and EVS to the
// site domain its endpoint is on. (The SDK puts IAM and EVS of eu-west-101
// on the .eu site and CBR of it on .com.)
var sites = map[Service]map[string]string{
	IAM: {
		"af-south-1":       siteCom,
		"ae-ad-1":          siteCom,
		"ap-southeast-1":   siteCom,
		"ap-southeast-2":   siteCom,
		"ap-southeast-3":   siteCom,
		"ap-southeast-4":   siteCom,
		"cn-east-2":        siteCom,
		"cn-east-3":        siteCom,
		"cn-east-4":        siteCom,
		"cn-east-5":        siteCom,
		"cn-north-1":       siteCom,
		"cn-north-2":       siteCom,
		"cn-north-4":       siteCom,
		"cn-north-9":       siteCom,
		"cn-north-12":      siteCom,
		"cn-south-1":       siteCom,
		"cn-south-2":       siteCom,
		"cn-southwest-2":   siteCom,
		"eu-west-0":        siteCom,
		"eu-west-101":      siteEU,
		"la-north-2":       siteCom,
		"la-south-2":       siteCom,
		"me-east-1":        siteCom,
		"my-kualalumpur-1": siteCom,
		"na-mexico-1":      siteCom,
		"ru-moscow-1":      siteCom,
		"sa-brazil-1":      siteCom,
		"tr-west-1":        siteCom,
	},
	CBR: {
		"af-north-1":       siteCom,
		"af-south-1":       siteCom,
		"ae-ad-1":          siteCom,
		"ap-southeast-1":   siteCom,
		"ap-southeast-2":   siteCom,
		"ap-southeast-3":   siteCom,
		"ap-southeast-4":   siteCom,
		"ap-southeast-5":   siteCom,
		"cn-east-2":        siteCom,
		"cn-east-3":        siteCom,
		"cn-east-4":        siteCom,
		"cn-east-5":        siteCom,
		"cn-north-1":       siteCom,
		"cn-north-2":       siteCom,
		"cn-north-4":       siteCom,
		"cn-north-9":       siteCom,
		"cn-north-11":      siteCom,
		"cn-north-12":      siteCom,
		"cn-south-1":       siteCom,
		"cn-south-2":       siteCom,
		"cn-south-4":       siteCom,
		"cn-southwest-2":   siteCom,
		"cn-southwest-3":   siteCom,
		"eu-west-0":        siteCom,
		"eu-west-101":      siteCom,
		"la-north-2":       siteCom,
		"la-south-2":       siteCom,
		"me-east-1":        siteCom,
		"my-kualalumpur-1": siteCom,
		"na-mexico-1":      siteCom,
		"ru-moscow-1":      siteCom,
		"ru-northwest-2":   siteCom,
		"sa-brazil-1":      siteCom,
		"tr-west-1":        siteCom,
	},
	EVS: {
		"af-south-1":     siteCom,
		"ae-ad-1":        siteCom,
		"ap-southeast-1": siteCom,
		"ap-southeast-2": siteCom,
		"ap-southeast-3": siteCom,
		"ap-southeast-4": siteCom,
		"cn-east-2":      siteCom,
		"cn-east-3":      siteCom,
		"cn-north-1":     siteCom,
		"cn-north-2":     siteCom,
		"cn-north-4":     siteCom,
		"cn-north-9":     siteCom,
		"cn-south-1":     siteCom,
		"cn-south-2":     siteCom,
		"cn-south-4":     siteCom,
		"cn-southwest-2": siteCom,
		"eu-west-0":      siteCom,
		"eu-west-101":    siteEU,
		"la-north-2":     siteCom,
		"la-south-2":     siteCom,
		"me-east-1":      siteCom,
		"na-mexico-1":    siteCom,
		"sa-brazil-1":    siteCom,
		"tr-west-1":      siteCom,
	},
}

// Default returns the default base URL ("https://host") of service in region:
// the region table's entry when there is one, else
// "https://{service}.{region}.myhuaweicloud.com".
func Default(service Service, region string) string {
	site, ok := sites[service][region]
	if !ok {
		site = siteCom
	}
	return "https://" + string(service) + "." + region + "." + site
}
