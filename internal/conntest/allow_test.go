package conntest

import (
	"net/netip"
	"strings"
	"testing"
)

func TestAllowlistHost(t *testing.T) {
	a, err := ParseAllowlist("", false)
	if err != nil {
		t.Fatal(err)
	}
	loop, err := ParseAllowlist("*.*.alm.cloud.sap, *.authentication.*.hana.ondemand.com", true)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		list    Allowlist
		host    string
		wantErr string // "" = allowed
	}{
		{a, "t1.eu10.alm.cloud.sap", ""},
		{a, "eu10.alm.cloud.sap", ""},
		{a, "T1.EU10.ALM.CLOUD.SAP.", ""},
		{a, "sub.authentication.eu10.hana.ondemand.com", ""},
		{a, "sub.authentication.cert.eu10.hana.ondemand.com", ""},
		{a, "t1.eu10-004.alm.cloud.sap", ""},
		// Customer applications on SAP BTP are not token endpoints.
		{a, "myapp.cfapps.eu10.hana.ondemand.com", "is not under"},
		{a, "evil.authentication.eu10.hana.ondemand.com.attacker.example", "is not under"},
		{a, "x.sub.authentication.eu10.hana.ondemand.com", "is not under"},
		{a, "authentication.eu10.hana.ondemand.com", "is not under"},
		{a, "a.b.t1.eu10.alm.cloud.sap", "is not under"},
		{a, ".eu10.alm.cloud.sap", "is not under"},
		{a, "alm.cloud.sap", "is not under"},
		{a, "evil-alm.cloud.sap.example.com", "is not under"},
		{a, "xalm.cloud.sap", "is not under"},
		{a, "169.254.169.254", "is an IP address"},
		{a, "10.0.0.1", "is an IP address"},
		{a, "127.0.0.1", "loopback"},
		{a, "localhost", "loopback"},
		{a, "::1", "loopback"},
		{loop, "127.0.0.1", ""},
		{loop, "localhost", ""},
		{loop, "internal.corp", "is not under"},
	}
	for _, c := range cases {
		err := c.list.Host(c.host)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("Host(%q) = %v, want allowed", c.host, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("Host(%q) = %v, want error containing %q", c.host, err, c.wantErr)
		}
	}
}

func TestAllowlistAddr(t *testing.T) {
	a := Allowlist{Patterns: []string{"*.alm.cloud.sap"}}
	loop := Allowlist{Patterns: []string{"*.alm.cloud.sap"}, Loopback: true}
	for _, c := range []struct {
		list Allowlist
		addr string
		ok   bool
	}{
		{a, "52.28.1.1", true},
		{a, "2a05:d014::1", true},
		{a, "10.1.2.3", false},
		{a, "172.16.0.1", false},
		{a, "192.168.1.1", false},
		{a, "169.254.169.254", false},
		{a, "100.64.0.1", false},
		{a, "0.0.0.0", false},
		{a, "127.0.0.1", false},
		{a, "::ffff:10.0.0.1", false},
		{a, "fd00::1", false},
		// Every IANA special-purpose range that is not globally reachable.
		{a, "0.1.2.3", false},
		{a, "192.0.0.8", false},
		{a, "192.0.0.170", false},
		{a, "192.0.2.1", false},
		{a, "192.88.99.1", false},
		{a, "198.18.0.1", false},
		{a, "198.19.255.254", false},
		{a, "198.51.100.7", false},
		{a, "203.0.113.9", false},
		{a, "224.0.0.251", false},
		{a, "240.0.0.1", false},
		{a, "255.255.255.255", false},
		{a, "::", false},
		{a, "::a9fe:a9fe", false},        // IPv4-compatible 169.254.169.254
		{a, "64:ff9b::a9fe:a9fe", false}, // NAT64 of the metadata address
		{a, "64:ff9b:1::a00:1", false},   // local-use NAT64
		{a, "100::1", false},             // discard-only
		{a, "2001::a9fe:a9fe", false},    // Teredo
		{a, "2001:2::1", false},          // benchmarking
		{a, "2001:db8::1", false},        // documentation
		{a, "2002:a9fe:a9fe::1", false},  // 6to4 of the metadata address
		{a, "3fff::1", false},            // documentation
		{a, "5f00::1", false},            // SRv6 SIDs
		{a, "fe80::1", false},            // link local
		{a, "ff02::1", false},            // multicast
		{a, "4000::1", false},            // not allocated for global unicast
		{a, "::ffff:198.18.0.1", false},  // mapped benchmarking
		{a, "198.20.0.1", true},          // just past 198.18.0.0/15
		{a, "2a01:111:f100::1", true},    // a public IPv6 address
		{a, "192.0.1.1", true},           // just past 192.0.0.0/24
		{loop, "127.0.0.1", true},
		{loop, "::1", true},
		{loop, "10.0.0.1", false},
	} {
		err := c.list.Addr(netip.MustParseAddr(c.addr))
		if (err == nil) != c.ok {
			t.Errorf("Addr(%s) loopback=%v = %v, want ok=%v", c.addr, c.list.Loopback, err, c.ok)
		}
	}
}

func TestParseAllowlistRejects(t *testing.T) {
	for _, in := range []string{"*", "https://x.alm.cloud.sap", "a.b/c", "*.*.sap", "localhost", "x*.alm.cloud.sap", "*.alm.*", "alm.*.sap"} {
		if _, err := ParseAllowlist(in, false); err == nil || !strings.Contains(err.Error(), "host pattern") {
			t.Errorf("ParseAllowlist(%q) = %v, want a host pattern error", in, err)
		}
	}
}

func TestParseAllowlistAcceptsPrecisePatterns(t *testing.T) {
	a, err := ParseAllowlist("eu10.alm.cloud.sap, *.authentication.*.hana.ondemand.com", false)
	if err != nil {
		t.Fatal(err)
	}
	if a.Host("eu10.alm.cloud.sap") != nil || a.Host("s.authentication.us10.hana.ondemand.com") != nil {
		t.Errorf("exact and mid-label patterns do not match: %v", a.Patterns)
	}
	if a.Host("t.eu10.alm.cloud.sap") == nil {
		t.Errorf("an exact pattern matched a subdomain")
	}
}

func TestIsPlaceholder(t *testing.T) {
	for in, want := range map[string]bool{
		``:   true,
		`{}`: true,
		`{"clientSecret":"REPLACE_ME","clientId":"x","url":"https://t.eu10.alm.cloud.sap","authenticationServer":"https://s.authentication.eu10.hana.ondemand.com"}`: true,
		`{"clientSecret":"<client secret>"}`:                                   true,
		`{"uaa":{"clientsecret":"TODO"}}`:                                      true,
		`{"placeholder":"fill me in"}`:                                         true,
		`"CHANGE-ME"`:                                                          true,
		`{"clientSecret":"sim-client-secret","clientId":"x"}`:                  false,
		`{"uaa":{"clientsecret":"a1b2c3$todo+tbd/xyz=","clientid":"sb-x!b1"}}`: false,
		`{"clientSecret":"s3cr3t"}`:                                            false,
	} {
		if got := IsPlaceholder([]byte(in)); got != want {
			t.Errorf("IsPlaceholder(%s) = %v, want %v", in, got, want)
		}
	}
}

func TestXSAppName(t *testing.T) {
	for in, want := range map[string]string{
		"sb-calm-collector!b123|sapcloudalm!b456": "calm-collector",
		"sb-na-1234!t5": "na-1234",
		"weird":         "calm-collector",
	} {
		if got := xsappname(in); got != want {
			t.Errorf("xsappname(%q) = %q, want %q", in, got, want)
		}
	}
}
