package collect

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// APIHost is the identity of a tenant's API in its state: scheme://host[:port] of the connector's
// url, lower case. See docs/security.md.
func APIHost(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + strings.TrimSuffix(u.Host, "."))
}

// checkTenantHost refuses a connector whose API host differs from the one the tenant's state was
// written for: two connectors that share a name would share checkpoints and the lease, and the
// second would skip every window the first delivered. State written before hosts were recorded
// (no host) is adopted.
func (mr *monitorRun) checkTenantHost(ctx context.Context) error {
	if mr.Host == "" {
		return nil
	}
	cp, ok, err := mr.Store.Get(ctx, mr.Tenant, mr.id)
	if err != nil {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	if ok && cp.Host != "" && cp.Host != mr.Host {
		return fmt.Errorf("tenant %q: its state was written for the API host %s, but this connector points at %s; "+
			"two connectors may not share a name: give this one its own \"name\" in its secret "+
			"(or, if the tenant really moved, delete the tenant's state)", mr.Tenant, cp.Host, mr.Host)
	}
	return nil
}
