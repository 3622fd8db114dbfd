package conntest

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// DefaultAllowedHosts are the host patterns candidate settings may point at: Cloud ALM tenants and
// the BTP authentication servers.
const DefaultAllowedHosts = "*.alm.cloud.sap,*.hana.ondemand.com"

// Allowlist limits which hosts candidate settings (settings sent to the testconn function URL)
// may make the test contact, so that the function cannot be used to probe internal networks.
type Allowlist struct {
	// Patterns are exact host names or "*.suffix" patterns (matching any subdomain of suffix).
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
		name := strings.TrimPrefix(p, "*.")
		if strings.ContainsAny(name, "*/: ") || !strings.Contains(name, ".") {
			errs = append(errs, fmt.Errorf("host pattern %q: use a host name like eu10.alm.cloud.sap or a wildcard like *.alm.cloud.sap", p))
			continue
		}
		a.Patterns = append(a.Patterns, p)
	}
	if len(a.Patterns) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("no host pattern given: use e.g. *.alm.cloud.sap,*.hana.ondemand.com"))
	}
	return a, errors.Join(errs...)
}

// Host returns nil when host (no port) may be contacted, else an error saying which hosts may.
func (a Allowlist) Host(host string) error {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if isLoopbackHost(h) {
		if a.Loopback {
			return nil
		}
		return fmt.Errorf("host %s is a loopback address, which candidate settings may not use", host)
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return fmt.Errorf("host %s is an IP address; candidate settings must name a host under %s", host, strings.Join(a.Patterns, ", "))
	}
	for _, p := range a.Patterns {
		if suffix, ok := strings.CutPrefix(p, "*"); ok {
			if strings.HasSuffix(h, suffix) && len(h) > len(suffix) {
				return nil
			}
		} else if h == p {
			return nil
		}
	}
	return fmt.Errorf("host %s is not under %s", host, strings.Join(a.Patterns, ", "))
}

// Addr returns nil when an address a allowed host resolved to may be dialled: public unicast
// addresses always, loopback only when the list allows loopback. It stops a permitted name that
// resolves to an internal address.
func (a Allowlist) Addr(ip netip.Addr) error {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback():
		if a.Loopback {
			return nil
		}
		return fmt.Errorf("address %s is a loopback address", ip)
	case ip.IsPrivate(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsMulticast(),
		ip.IsUnspecified(), ip.IsInterfaceLocalMulticast(), !ip.IsGlobalUnicast():
		return fmt.Errorf("address %s is not a public address", ip)
	case sharedAddressSpace.Contains(ip):
		return fmt.Errorf("address %s is not a public address", ip)
	}
	return nil
}

// sharedAddressSpace is 100.64.0.0/10 (carrier-grade NAT), internal but not IsPrivate.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
