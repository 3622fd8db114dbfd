package secrets

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// DefaultTTL is how long a secret read from Secrets Manager is used before it is read again.
const DefaultTTL = 5 * time.Minute

// SecretsManagerAPI is the part of the Secrets Manager client a source uses.
type SecretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

// SecretsManagerSource is a secret in AWS Secrets Manager, read through a cache: Load reads the
// secret at most once per TTL, so a rotated secret is picked up within the TTL without a redeploy.
// Call Invalidate after an authentication failure to read it again at once. Safe for concurrent use.
type SecretsManagerSource struct {
	client SecretsManagerAPI
	id     string
	ttl    time.Duration
	now    func() time.Time

	mu      sync.Mutex
	cached  []byte
	fetched time.Time // zero: nothing cached
}

// SecretsManager returns the secret secretID (name or ARN) read through a cache of ttl
// (DefaultTTL when ttl <= 0).
func SecretsManager(client SecretsManagerAPI, secretID string, ttl time.Duration) *SecretsManagerSource {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &SecretsManagerSource{client: client, id: secretID, ttl: ttl, now: time.Now}
}

// Name implements Source.
func (s *SecretsManagerSource) Name() string { return "secretsmanager:" + s.id }

// Load implements Source.
func (s *SecretsManagerSource) Load(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fetched.IsZero() || s.now().Sub(s.fetched) >= s.ttl {
		data, err := s.fetch(ctx)
		if err != nil {
			return nil, err
		}
		s.cached, s.fetched = data, s.now()
	}
	if err := checkContent(s.id, s.cached); err != nil {
		return nil, err
	}
	return slices.Clone(s.cached), nil
}

// Invalidate drops the cached value: the next Load reads the secret again.
func (s *SecretsManagerSource) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cached, s.fetched = nil, time.Time{}
}

// Save implements Source: it stores data as the secret's new current version and caches it.
func (s *SecretsManagerSource) Save(ctx context.Context, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:     aws.String(s.id),
		SecretString: aws.String(string(data)),
	})
	if err != nil {
		s.cached, s.fetched = nil, time.Time{}
		return fmt.Errorf("save secret %s: %w", s.id, describe(err))
	}
	s.cached, s.fetched = slices.Clone(data), s.now()
	return nil
}

func (s *SecretsManagerSource) fetch(ctx context.Context) ([]byte, error) {
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.id)})
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return nil, fmt.Errorf("secret %s was not found in Secrets Manager (or has no value yet): check the secret id and region: %w", s.id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read secret %s: %w", s.id, describe(err))
	}
	if out.SecretString != nil {
		return []byte(*out.SecretString), nil
	}
	return out.SecretBinary, nil
}

// describe adds what to do to the errors an operator can fix.
func describe(err error) error {
	var denied interface{ ErrorCode() string }
	if errors.As(err, &denied) && denied.ErrorCode() == "AccessDeniedException" {
		return fmt.Errorf("the function's role may not use this secret (grant secretsmanager:GetSecretValue/PutSecretValue): %w", err)
	}
	return err
}
