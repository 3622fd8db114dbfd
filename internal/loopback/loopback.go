// Package loopback holds the one rule for which hosts are this machine: where plain http is
// allowed (connector URLs, OTLP sinks), where the console may listen, and what the connection
// test's address guard lets through only when told to. See docs/design.md §2.
package loopback

import (
	"net/netip"
	"strings"
)

// Host reports whether host (a URL's Hostname(), without port or brackets) is a loopback host:
// "localhost" (any case, an optional trailing dot), an IPv4 address in 127.0.0.0/8 or ::1, also
// written IPv4-mapped (::ffff:127.0.0.1). A zone (::1%lo) is not allowed.
func Host(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}
