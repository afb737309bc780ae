package endpoints

import "testing"

func TestDefault(t *testing.T) {
	for _, tt := range []struct {
		service Service
		region  string
		want    string
	}{
		// The vendor SDK's IAM table puts eu-west-101 on the .eu site.
		{IAM, "eu-west-101", "https://iam.eu-west-101.myhuaweicloud.eu"},
		{IAM, "cn-north-4", "https://iam.cn-north-4.myhuaweicloud.com"},
		{IAM, "ap-southeast-1", "https://iam.ap-southeast-1.myhuaweicloud.com"},
		// Its CBR table keeps eu-west-101 on .com.
		{CBR, "eu-west-101", "https://cbr.eu-west-101.myhuaweicloud.com"},
		{CBR, "cn-north-4", "https://cbr.cn-north-4.myhuaweicloud.com"},
		{VBS, "eu-west-101", "https://vbs.eu-west-101.myhuaweicloud.com"},
		{VBS, "cn-north-4", "https://vbs.cn-north-4.myhuaweicloud.com"},
		// Unknown regions and services: the pattern.
		{IAM, "xx-new-1", "https://iam.xx-new-1.myhuaweicloud.com"},
		{Service("dss"), "eu-west-101", "https://dss.eu-west-101.myhuaweicloud.com"},
		// The SDK's EVS table puts eu-west-101 on the .eu site, like IAM.
		{EVS, "eu-west-101", "https://evs.eu-west-101.myhuaweicloud.eu"},
		{EVS, "cn-south-4", "https://evs.cn-south-4.myhuaweicloud.com"},
		{EVS, "xx-new-1", "https://evs.xx-new-1.myhuaweicloud.com"},
	} {
		if got := Default(tt.service, tt.region); got != tt.want {
			t.Errorf("Default(%s, %s) = %s, want %s", tt.service, tt.region, got, tt.want)
		}
	}
}

func TestTable(t *testing.T) {
	if n, m, e := len(sites[IAM]), len(sites[CBR]), len(sites[EVS]); n != 28 || m != 34 || e != 24 {
		t.Errorf("%d IAM, %d CBR and %d EVS regions, want the SDK's 28, 34 and 24", n, m, e)
	}
	for s, regions := range sites {
		for r, site := range regions {
			if site != siteCom && site != siteEU {
				t.Errorf("%s %s: site %q", s, r, site)
			}
		}
	}
}
