package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Source is where one connector's secret is kept.
type Source interface {
	// Load returns the secret's content. A secret still holding the CDK placeholder returns an
	// error matching ErrPlaceholder.
	Load(ctx context.Context) ([]byte, error)
	// Save replaces the secret's content.
	Save(ctx context.Context, data []byte) error
	// Name says where the secret is, for logs and errors ("file:/x/secret.json",
	// "secretsmanager:arn:..."); it never contains the content.
	Name() string
}

// ErrPlaceholder matches (errors.Is) the error Load returns for a secret that still holds the
// placeholder the CDK stack puts in a new secret.
var ErrPlaceholder = errors.New("secret is not filled in yet")

// ErrNotFound matches (errors.Is) the error Load returns when the secret does not exist.
var ErrNotFound = errors.New("secret not found")

// PlaceholderError is the error for a secret that is not filled in yet; it names the secret.
type PlaceholderError struct {
	Secret string // the secret's id or path
}

func (e *PlaceholderError) Error() string {
	return fmt.Sprintf("secret %s is not filled in yet: put the BTP service key or the connector fields into it (see README)", e.Secret)
}

// Is makes errors.Is(err, ErrPlaceholder) true.
func (e *PlaceholderError) Is(target error) bool { return target == ErrPlaceholder }

// placeholderKey is the top-level key of the JSON the CDK stack generates for a new secret.
const placeholderKey = "placeholder"

// checkContent rejects an empty secret and the CDK placeholder. Content that is not a JSON
// object passes: the settings parser reports what is wrong with it.
func checkContent(secret string, data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("secret %s is empty: put the BTP service key or the connector fields into it (see README)", secret)
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) == nil {
		if _, ok := top[placeholderKey]; ok {
			return &PlaceholderError{Secret: secret}
		}
	}
	return nil
}
