package conntest

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/calm-collector/calm-collector/internal/loopback"
)

// DefaultAllowedHosts are the host patterns candidate settings may point at: Cloud ALM tenants
// (<tenant>.<region>.alm.cloud.sap, or the regional <region>.alm.cloud.sap) and the BTP XSUAA
// token endpoints (<subdomain>.authentication.<region>.hana.ondemand.com, and its cert. form for
// x509 keys). Other applications on *.hana.ondemand.com are not token endpoints and are refused.
const DefaultAllowedHosts = "*.alm.cloud.sap,*.*.alm.cloud.sap," +
	"*.authentication.*.hana.ondemand.com,*.authentication.cert.*.hana.ondemand.com"

// Allowlist limits which hosts candidate settings (settings sent to the testconn function URL)
// may make the test contact, so that the function cannot be used to probe internal networks.
type Allowlist struct {
	// Patterns are host names in which a "*" label matches exactly one label of a host, as in a
	// TLS wildcard: "*.alm.cloud.sap" matches eu10.alm.cloud.sap, not t.eu10.alm.cloud.sap.
	Patterns []string
	// Loopback allows 127.0.0.1, ::1 and localhost (tests only).
	Loopback bool
}

// ParseAllowlist reads a comma list of host patterns ("" = DefaultAllowedHosts).
func ParseAllowlist(list string, loopback bool) (Allowlist, error) {
	if strings.TrimSpace(list) == "" {
		list = DefaultAllowedHosts
	}
	a := Allowlist{Loopback: loopback}
	var errs []error
	for _, p := range strings.Split(list, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if !validPattern(p) {
			errs = append(errs, fmt.Errorf("host pattern %q: use a host name like eu10.alm.cloud.sap or whole-label wildcards "+
				"like *.alm.cloud.sap (a * stands for one label; the last two labels are names)", p))
			continue
		}
		a.Patterns = append(a.Patterns, p)
	}
	if len(a.Patterns) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("no host pattern given: use e.g. "+DefaultAllowedHosts))
	}
	return a, errors.Join(errs...)
}

// Host returns nil when host (no port) may be contacted, else an error saying which hosts may.
func (a Allowlist) Host(host string) error {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if loopback.Host(h) {
		if a.Loopback {
			return nil
		}
		return fmt.Errorf("host %s is a loopback address, which candidate settings may not use", host)
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return fmt.Errorf("host %s is an IP address; candidate settings must name a host under %s", host, strings.Join(a.Patterns, ", "))
	}
	if slices.ContainsFunc(a.Patterns, func(p string) bool { return matchPattern(p, h) }) {
		return nil
	}
	return fmt.Errorf("host %s is not under %s", host, strings.Join(a.Patterns, ", "))
}

// Addr returns nil when an address an allowed host resolved to may be dialled: globally reachable
// unicast addresses always, loopback only when the list allows loopback. It stops a permitted
// name that resolves to an internal address: every range of IANA's special-purpose registries
// that is not globally reachable is refused (see specialPurpose and docs/security.md).
func (a Allowlist) Addr(ip netip.Addr) error {
	ip = ip.Unmap()
	if ip.IsLoopback() {
		if a.Loopback {
			return nil
		}
		return fmt.Errorf("address %s is a loopback address", ip)
	}
	for _, r := range specialPurpose {
		if r.prefix.Contains(ip) {
			return fmt.Errorf("address %s is in %s (%s), which is not a public address", ip, r.prefix, r.name)
		}
	}
	if ip.Is6() && !globalUnicast6.Contains(ip) {
		return fmt.Errorf("address %s is outside %s, the only IPv6 space IANA allocates for global unicast", ip, globalUnicast6)
	}
	return nil
}

// specialRange is one entry of IANA's IPv4 or IPv6 Special-Purpose Address Registry.
type specialRange struct {
	prefix netip.Prefix
	name   string
}

// globalUnicast6 is the IPv6 global unicast space (IANA IPv6 Address Space registry).
var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// specialPurpose lists the ranges refused by Addr: every entry of IANA's IPv4 and IPv6
// Special-Purpose Address Registries (iana.org/assignments/iana-ipv4-special-registry,
// iana-ipv6-special-registry) that is not globally reachable, plus multicast and the
// translation prefixes that embed an IPv4 address (NAT64, 6to4, Teredo), whose IPv4 part could
// be an internal address. Whole blocks are refused where the registry excepts a few anycast
// addresses inside them: no SAP host lives there.
var specialPurpose = func() []specialRange {
	var out []specialRange
	for _, r := range [][2]string{
		{"0.0.0.0/8", "this network, RFC 791"},
		{"10.0.0.0/8", "private use, RFC 1918"},
		{"100.64.0.0/10", "shared address space, RFC 6598"},
		{"127.0.0.0/8", "loopback, RFC 1122"},
		{"169.254.0.0/16", "link local, RFC 3927"},
		{"172.16.0.0/12", "private use, RFC 1918"},
		{"192.0.0.0/24", "IETF protocol assignments, RFC 6890"},
		{"192.0.2.0/24", "documentation TEST-NET-1, RFC 5737"},
		{"192.88.99.0/24", "6to4 relay anycast, RFC 7526"},
		{"192.168.0.0/16", "private use, RFC 1918"},
		{"198.18.0.0/15", "benchmarking, RFC 2544"},
		{"198.51.100.0/24", "documentation TEST-NET-2, RFC 5737"},
		{"203.0.113.0/24", "documentation TEST-NET-3, RFC 5737"},
		{"224.0.0.0/4", "multicast, RFC 5771"},
		{"240.0.0.0/4", "reserved, RFC 1112"},
		{"::/128", "unspecified address, RFC 4291"},
		{"::ffff:0:0/96", "IPv4-mapped address, RFC 4291"},
		{"64:ff9b::/96", "NAT64 IPv4-IPv6 translation, RFC 6052"},
		{"64:ff9b:1::/48", "local-use IPv4-IPv6 translation, RFC 8215"},
		{"100::/64", "discard-only, RFC 6666"},
		{"100:0:0:1::/64", "dummy IPv6 prefix, RFC 9780"},
		{"2001::/23", "IETF protocol assignments, RFC 2928"},
		{"2001::/32", "Teredo, RFC 4380"},
		{"2001:2::/48", "benchmarking, RFC 5180"},
		{"2001:db8::/32", "documentation, RFC 3849"},
		{"2002::/16", "6to4, RFC 3056"},
		{"3fff::/20", "documentation, RFC 9637"},
		{"5f00::/16", "segment routing SIDs, RFC 9602"},
		{"fc00::/7", "unique local, RFC 4193"},
		{"fe80::/10", "link local, RFC 4291"},
		{"ff00::/8", "multicast, RFC 4291"},
	} {
		out = append(out, specialRange{netip.MustParsePrefix(r[0]), r[1]})
	}
	return out
}()

// validPattern reports whether p is a host pattern: labels of letters, digits and '-', or "*"
// standing for one label, with the last two labels named.
func validPattern(p string) bool {
	labels := strings.Split(p, ".")
	if len(labels) < 2 {
		return false
	}
	for i, l := range labels {
		switch {
		case l == "*" && i < len(labels)-2:
		case l == "" || strings.ContainsAny(l, "*/: ") || strings.Trim(l, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "":
			return false
		}
	}
	return true
}

// matchPattern reports whether host (lower case, no trailing dot) matches p label by label.
func matchPattern(p, host string) bool {
	pl, hl := strings.Split(p, "."), strings.Split(host, ".")
	if len(pl) != len(hl) {
		return false
	}
	for i := range pl {
		if hl[i] == "" || (pl[i] != "*" && pl[i] != hl[i]) {
			return false
		}
	}
	return true
}
