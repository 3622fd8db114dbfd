package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/calm-collector/calm-collector/internal/secrets"
)

// smSources reads the connector secrets from Secrets Manager, each through the TTL cache of
// internal/secrets: warm invocations do not call Secrets Manager every time, and a rotated
// secret is seen within the TTL.
type smSources map[string]*secrets.SecretsManagerSource

func newSecretReader(cfg aws.Config, ttl time.Duration, ids ...string) smSources {
	client := secretsmanager.NewFromConfig(cfg)
	s := smSources{}
	for _, id := range ids {
		if id != "" {
			s[id] = secrets.SecretsManager(client, id, ttl)
		}
	}
	return s
}

func (s smSources) Secret(ctx context.Context, id string) ([]byte, error) {
	src, ok := s[id]
	if !ok {
		return nil, fmt.Errorf("secret %s is not configured", id)
	}
	return src.Load(ctx)
}

// Invalidate drops the cached value of the secret, so that the next read asks Secrets Manager.
func (s smSources) Invalidate(id string) {
	if src, ok := s[id]; ok {
		src.Invalidate()
	}
}
