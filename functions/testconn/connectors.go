package main

import (
	"context"
	"errors"

	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/calm-collector/calm-collector/internal/fleet"
	"github.com/calm-collector/calm-collector/internal/secrets"
)

// connectorStore is the secret of a connector under CALM_CONNECTOR_PREFIX, which may not exist
// yet: Save puts a new version, or, for a new name, creates the secret (internal/fleet), so that
// POST ?connector=NEW&save=true adds a tenant after its connection test passed.
type connectorStore struct {
	*secrets.SecretsManagerSource
	api          fleet.SecretsAPI
	prefix, name string
	// kmsKey encrypts a connector created here: the stack's customer key (CALM_SECRETS_KMS_KEY).
	kmsKey string
}

// Save stores data as the connector's secret, creating it when there is none.
func (c *connectorStore) Save(ctx context.Context, data []byte) error {
	err := c.SecretsManagerSource.Save(ctx, data)
	var nf *smtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		_, err = fleet.Add(ctx, c.api, c.prefix, fleet.AddInput{Name: c.name, Secret: data, KMSKeyID: c.kmsKey})
	}
	return err
}
