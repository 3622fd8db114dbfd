package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// secretsAPI is the part of the Secrets Manager client the store uses.
type secretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

// smStore is one connector secret in Secrets Manager, cached for ttl across warm invocations.
type smStore struct {
	api secretsAPI
	id  string
	ttl time.Duration

	mu      sync.Mutex
	value   []byte
	readAt  time.Time
	hasRead bool
}

func newSMStore(api secretsAPI, id string, ttl time.Duration) *smStore {
	return &smStore{api: api, id: id, ttl: ttl}
}

func (s *smStore) Name() string { return "secretsmanager:" + s.id }

// Load returns the secret string, from the cache while it is younger than ttl.
func (s *smStore) Load(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hasRead && time.Since(s.readAt) < s.ttl {
		return s.value, nil
	}
	out, err := s.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.id)})
	if err != nil {
		return nil, fmt.Errorf("get secret value: %w", err)
	}
	if out.SecretString == nil {
		return nil, fmt.Errorf("secret holds binary data, not the connector settings JSON")
	}
	s.value, s.readAt, s.hasRead = []byte(*out.SecretString), time.Now(), true
	return s.value, nil
}

// Save writes a new version of the secret and drops the cache.
func (s *smStore) Save(ctx context.Context, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hasRead = false
	if _, err := s.api.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(s.id), SecretString: aws.String(string(data))}); err != nil {
		return fmt.Errorf("put secret value: %w", err)
	}
	return nil
}

// Invalidate drops the cache: the next Load reads the secret again (after a rotation).
func (s *smStore) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hasRead = false
}
