package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/conntest"
	"github.com/calm-collector/calm-collector/internal/funcurl"
)

// outcome is what a test or a save answers on the page.
type outcome struct {
	Report *conntest.Report
	// Saved is nil for a plain test; for "Save and test" it says whether the secret was stored.
	Saved *bool
	// Message says what happened to the stored secret, or why no test ran.
	Message string
	// Key is the saved connector (local saves), for the link to it.
	Key string
}

// Remote runs tests and saves through a deployed testconn function URL.
type Remote struct {
	// URL is the function URL (https://<id>.lambda-url.<region>.on.aws/).
	URL string
	// Caller signs and sends the requests.
	Caller *funcurl.Caller
}

// remoteBody is the function's answer: the report, and for a save whether it was stored.
type remoteBody struct {
	conntest.Report
	Saved *bool  `json:"saved,omitempty"`
	Error string `json:"error,omitempty"`
}

// call asks the function: GET (body nil) tests its stored connector, POST tests the body,
// save=true stores it when the test passes.
func (r *Remote) call(ctx context.Context, connector string, body []byte, save bool) (outcome, error) {
	u, err := funcurl.Parse(r.URL)
	if err != nil {
		return outcome{}, err
	}
	_, status, data, err := r.Caller.Test(ctx, u, connector, body, save)
	if err != nil {
		return outcome{}, err
	}
	var rb remoteBody
	if json.Unmarshal(data, &rb) != nil || rb.Checks == nil {
		return outcome{}, fmt.Errorf("the testconn function answered %s", funcurl.NotAReport(status, data))
	}
	o := outcome{Report: &rb.Report, Saved: rb.Saved, Message: rb.Error}
	if save && o.Saved == nil {
		f := false
		o.Saved = &f
	}
	if o.Saved != nil && *o.Saved && o.Message == "" {
		o.Message = "saved: the settings are stored in the function's connector secret"
	}
	return o, nil
}

// test runs the connection test of the posted form.
func (c *Console) test(ctx context.Context, f form) (outcome, []string, error) {
	if c.cfg.Remote != nil {
		if f.empty() {
			o, err := c.cfg.Remote.call(ctx, f.FnConnector, nil, false)
			return o, nil, err
		}
		raw, err := f.settingsJSON(nil)
		if err != nil {
			return outcome{}, nil, err
		}
		o, err := c.cfg.Remote.call(ctx, f.FnConnector, raw, false)
		return o, calm.SecretValues(raw), err
	}
	raw, err := f.settingsJSON(c.stored(ctx, f.Key))
	if err != nil {
		return outcome{}, nil, err
	}
	r := conntest.Run(ctx, raw, c.testOptions())
	return outcome{Report: &r}, calm.SecretValues(raw), nil
}

// save tests the posted form and stores it only when the test passes.
func (c *Console) save(ctx context.Context, f form) (outcome, []string, error) {
	if c.cfg.Remote != nil {
		raw, err := f.settingsJSON(nil)
		if err != nil {
			if errors.Is(err, errEmptyForm) {
				err = errors.New("the function stores what it is sent: fill in every field including the client secret, or paste the service key JSON")
			}
			return outcome{}, nil, err
		}
		o, err := c.cfg.Remote.call(ctx, f.FnConnector, raw, true)
		return o, calm.SecretValues(raw), err
	}
	stored := c.stored(ctx, f.Key)
	raw, err := f.settingsJSON(stored)
	if err != nil {
		return outcome{}, nil, err
	}
	scrub := calm.SecretValues(raw)
	r := conntest.Run(ctx, raw, c.testOptions())
	no, yes := false, true
	o := outcome{Report: &r, Saved: &no}
	// notSaved answers a save that stored nothing, saying why.
	notSaved := func(format string, a ...any) (outcome, []string, error) {
		o.Message = "not saved: " + fmt.Sprintf(format, a...)
		return o, scrub, nil
	}
	if !r.OK {
		return notSaved("the connection test failed; the stored secret is unchanged")
	}
	settings, _, err := calm.ParseSettings(raw)
	if err != nil { // the settings check passed, so this does not happen
		return notSaved("%v", err)
	}
	src, ok := c.cfg.Connectors.Source(f.Key)
	key := f.Key
	if old, _, perr := calm.ParseSettings(stored); ok && perr == nil &&
		(old.Name != settings.Name || collect.APIHost(old.URL) != collect.APIHost(settings.URL)) {
		// A connector's name and API host are the identity of its state (docs/security.md).
		return notSaved("connector %q collects from %s; these settings are %q at %s. A connector's name "+
			"and API host are the identity of its checkpoints: add these settings as a new connector instead",
			old.Name, collect.APIHost(old.URL), settings.Name, collect.APIHost(settings.URL))
	}
	if !ok {
		if f.Key != "" {
			return notSaved("connector %q is no longer stored; add it again", f.Key)
		}
		if _, exists := c.cfg.Connectors.Source(settings.Name); exists {
			return notSaved("a connector named %q exists already: open it from the list to change it, or choose another name", settings.Name)
		}
		if src, key, err = c.cfg.Connectors.Create(settings.Name); err != nil {
			return notSaved("%v", err)
		}
	}
	data, err := settings.MarshalConnector()
	if err != nil {
		return notSaved("%v", err)
	}
	if err := src.Save(ctx, data); err != nil {
		c.log.Error("save connector", "connector", key, "where", src.Name(), "err", err)
		return notSaved("%v", err)
	}
	c.log.Info("saved connector", "connector", key, "where", src.Name())
	o.Saved, o.Key = &yes, key
	o.Message = "saved to " + src.Name()
	return o, scrub, nil
}

// stored returns the stored secret of a connector, nil when there is none or it cannot be read.
func (c *Console) stored(ctx context.Context, key string) []byte {
	if key == "" || c.cfg.Connectors == nil {
		return nil
	}
	src, ok := c.cfg.Connectors.Source(key)
	if !ok {
		return nil
	}
	raw, err := src.Load(ctx)
	if err != nil {
		return nil
	}
	return raw
}

func (c *Console) testOptions() conntest.Options {
	opts := conntest.Options{Monitors: c.cfg.Monitors, Extra: c.cfg.Extra, Auto: len(c.cfg.Monitors) == 0, Timeout: c.cfg.TestTimeout, HTTPClient: c.cfg.HTTPClient}
	if c.cfg.State != nil {
		// api-shape reports the late-data delay collection learned into the status view's store.
		opts.UsualDelay = func(ctx context.Context, tenant string) (time.Duration, bool, error) {
			return collect.UsualDelay(ctx, c.cfg.State, tenant)
		}
	}
	return opts
}

// summary is one stored connector as the list and the form show it: never its secret.
type summary struct {
	Key, Where string
	Settings   calm.Settings // ClientSecret and Key are only checked with IsSet, never rendered
	SecretSet  bool
	Problem    string
}

func (c *Console) summaries(ctx context.Context) ([]summary, error) {
	if c.cfg.Connectors == nil {
		return nil, nil
	}
	keys, err := c.cfg.Connectors.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]summary, 0, len(keys))
	for _, k := range keys {
		out = append(out, c.summary(ctx, k))
	}
	return out, nil
}

func (c *Console) summary(ctx context.Context, key string) summary {
	s := summary{Key: key}
	src, ok := c.cfg.Connectors.Source(key)
	if !ok {
		s.Problem = "not stored"
		return s
	}
	s.Where = src.Name()
	raw, err := src.Load(ctx)
	if err != nil {
		s.Problem = err.Error() // secrets errors never hold the content
		return s
	}
	settings, _, err := calm.ParseSettings(raw)
	if err != nil {
		var se *calm.SettingsError
		if errors.As(err, &se) {
			parts := make([]string, len(se.Problems))
			for i, p := range se.Problems {
				parts[i] = p.Field + ": " + p.Message
			}
			s.Problem = strings.Join(parts, "; ")
		} else {
			s.Problem = "the stored settings do not parse"
		}
		// Show what can be read so the form can fix it.
		var c connectorFields
		_ = json.Unmarshal(raw, &c)
		s.Settings = calm.Settings{Name: c.Name, AuthenticationServer: c.AuthenticationServer, ClientID: c.ClientID, URL: c.URL}
		s.SecretSet = c.ClientSecret != ""
		return s
	}
	s.Settings = settings
	s.SecretSet = settings.ClientSecret.IsSet() || settings.Key.IsSet()
	return s
}

// connectorFields reads the non-secret fields of settings that did not parse; the secret is
// only checked for presence.
type connectorFields struct {
	Name                 string `json:"name"`
	AuthenticationServer string `json:"authenticationServer"`
	ClientID             string `json:"clientId"`
	ClientSecret         string `json:"clientSecret"`
	URL                  string `json:"url"`
}
