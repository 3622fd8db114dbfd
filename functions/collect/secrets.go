package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/calm-collector/calm-collector/internal/secrets"
)

// smSources reads the connector secrets from Secrets Manager, each through the TTL cache of
// internal/secrets: warm invocations do not call Secrets Manager every time, and a rotated
// secret is seen within the TTL. It reads the configured ids and any id under the connector
// prefix (connectors added at run time, see internal/fleet), nothing else.
type smSources struct {
	client *secretsmanager.Client
	ttl    time.Duration
	prefix string

	mu  sync.Mutex
	src map[string]*secrets.SecretsManagerSource
}

func newSecretReader(cfg aws.Config, ttl time.Duration, prefix string, ids ...string) *smSources {
	s := &smSources{client: secretsmanager.NewFromConfig(cfg), ttl: ttl, prefix: prefix, src: map[string]*secrets.SecretsManagerSource{}}
	for _, id := range ids {
		if id != "" {
			s.src[id] = secrets.SecretsManager(s.client, id, ttl)
		}
	}
	return s
}

func (s *smSources) source(id string) *secrets.SecretsManagerSource {
	s.mu.Lock()
	defer s.mu.Unlock()
	src, ok := s.src[id]
	if !ok && s.prefix != "" && strings.HasPrefix(id, s.prefix) {
		src = secrets.SecretsManager(s.client, id, s.ttl)
		s.src[id] = src
	}
	return src
}

func (s *smSources) Secret(ctx context.Context, id string) ([]byte, error) {
	src := s.source(id)
	if src == nil {
		return nil, fmt.Errorf("secret %s is not configured", id)
	}
	return src.Load(ctx)
}

// Invalidate drops the cached value of the secret, so that the next read asks Secrets Manager.
func (s *smSources) Invalidate(id string) {
	if src := s.source(id); src != nil {
		src.Invalidate()
	}
}
