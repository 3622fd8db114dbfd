package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/secrets"
)

// identityError refuses a save that would rename or re-host a stored connector: its name and API
// host are the identity of its state (checkpoints, lease), see docs/security.md.
type identityError struct{ msg string }

func (e *identityError) Error() string { return e.msg }

// sameIdentity checks that settings s keep the name and API host of the connector stored in
// store. Against a placeholder (not filled in yet) only the name is checked. connector is the name the
// deployment gives the secret ("" when it has none).
func sameIdentity(ctx context.Context, store Store, connector string, s calm.Settings) error {
	raw, err := store.Load(ctx)
	if err != nil && !errors.Is(err, secrets.ErrPlaceholder) && !errors.Is(err, secrets.ErrNotFound) {
		return fmt.Errorf("read the stored connector to compare: %w", err)
	}
	perr := err
	var old calm.Settings
	if perr == nil {
		old, _, perr = calm.ParseSettings(raw)
	}
	name := connector
	if perr == nil {
		name = old.Name
	}
	var problems []string
	if name != "" && s.Name != name {
		problems = append(problems, fmt.Sprintf("the settings name the connector %q, but it is stored as %q", s.Name, name))
	}
	if perr == nil && apiHost(s.URL) != apiHost(old.URL) {
		problems = append(problems, fmt.Sprintf("the settings point at the API host %s, but connector %q collects from %s",
			apiHost(s.URL), old.Name, apiHost(old.URL)))
	}
	if len(problems) == 0 {
		return nil
	}
	return &identityError{strings.Join(problems, "; ") + "; a connector's name and host are the identity of its checkpoints: " +
		`drop "name" from the settings, or add replace=true to the query to replace the connector on purpose`}
}

// apiHost is scheme://host[:port] of an API url, lower case (collect.APIHost's rule).
func apiHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.ToLower(u.Scheme + "://" + strings.TrimSuffix(u.Host, "."))
}
