package loopback

import "testing"

func TestHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost": true, "localhost.": true, "127.0.0.1": true, "127.1.2.3": true,
		"::1": true, "::ffff:127.0.0.1": true,
		"": false, "::1%lo": false, "localhost.example.com": false, "mylocalhost": false, "10.0.0.1": false,
		"0.0.0.0": false, "::": false, "128.0.0.1": false, "tenant.eu10.alm.cloud.sap": false, "[::1]": false,
	} {
		if got := Host(host); got != want {
			t.Errorf("Host(%q) = %v, want %v", host, got, want)
		}
	}
}
