package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// smReader reads connector secrets from Secrets Manager and keeps each for ttl, so that warm
// invocations do not call Secrets Manager every time and a rotation is seen within ttl.
type smReader struct {
	client *secretsmanager.Client
	ttl    time.Duration
	mu     sync.Mutex
	cache  map[string]cachedSecret
}

type cachedSecret struct {
	value   []byte
	fetched time.Time
}

func newSecretReader(cfg aws.Config, ttl time.Duration) *smReader {
	return &smReader{client: secretsmanager.NewFromConfig(cfg), ttl: ttl, cache: map[string]cachedSecret{}}
}

func (r *smReader) Secret(ctx context.Context, id string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.cache[id]; ok && time.Since(c.fetched) < r.ttl {
		return c.value, nil
	}
	out, err := r.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", id, err)
	}
	if out.SecretString == nil {
		return nil, fmt.Errorf("secret %s has no string value: store the connector JSON as the secret string", id)
	}
	v := []byte(*out.SecretString)
	r.cache[id] = cachedSecret{value: v, fetched: time.Now()}
	return v, nil
}
