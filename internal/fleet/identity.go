package fleet

import (
	"fmt"

	"github.com/calm-collector/calm-collector/internal/calm"
)

// NameError refuses settings that name another tenant than their connector.
type NameError struct{ Connector, Settings string }

func (e *NameError) Error() string {
	return fmt.Sprintf("connector %q: the settings name the tenant %q; a connector's name is its tenant's identity "+
		"(checkpoints, lease, archive keys, the Athena projection), so a secret under one connector cannot collect as another: "+
		`set "name" to %q or leave it out`, e.Connector, e.Settings, e.Connector)
}

// BindName is the one check of a connector's settings before they are stored under its name
// (testconn's ?save=true, calmctl connector add): settings whose "name" is another tenant are
// refused with both names (*NameError); settings without a "name" of their own are named after
// the connector (renamed reports it, for the answer: the tenant would otherwise default to the
// first label of the API host). It returns the settings in connector-fields form to store.
func BindName(connector string, raw []byte) (s calm.Settings, renamed bool, err error) {
	s, _, err = calm.ParseSettings(raw)
	if err != nil {
		return calm.Settings{}, false, fmt.Errorf("parse the settings: %w", err)
	}
	switch {
	case !calm.NamesItself(raw):
		renamed = s.Name != connector
		s.Name = connector
	case s.Name != connector:
		return calm.Settings{}, false, &NameError{Connector: connector, Settings: s.Name}
	}
	return s, renamed, nil
}
