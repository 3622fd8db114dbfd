// Package fleet holds the tenants of one deployment as data: a connector is a Secrets Manager
// secret under the stack's name prefix (for example calm-collector/CalmCollector/connectors/NAME),
// found at run time, so that adding a tenant needs no deploy and neither the functions'
// environment nor their IAM policies grow with the number of tenants. Each schedule tick the
// collect function lists the connectors, picks those due and hands each to the work queue as one
// message (see docs/deploy.md, "Fan-out").
package fleet

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Tags a connector secret may carry; both are optional.
const (
	// TagInterval is the time between two collections of the tenant, a multiple of the
	// schedule's period (e.g. "15m"); absent: every tick.
	TagInterval = "calm:interval"
	// TagMonitors is the tenant's CALM_MONITORS ("auto", "all" or "hm,events"); absent: the
	// function's.
	TagMonitors = "calm:monitors"
	// TagPlaceholder marks a secret the stack created with a placeholder to fill in. While the
	// secret still has that one version, the connector is not dispatched (nothing to collect
	// with); the first PutSecretValue adds a version and it collects from the next tick.
	TagPlaceholder = "calm:placeholder"
)

var nameRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$`)

// CheckName reports whether name can name a connector: 1–32 lower-case letters, digits and '-',
// not at either end (it becomes part of a secret name and the tenant metric dimension).
func CheckName(name string) error {
	if !nameRe.MatchString(name) {
		return fmt.Errorf("connector name %q: use 1-32 lower-case letters, digits and '-' (not at either end)", name)
	}
	return nil
}

var stackNameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)

// CheckStackName reports whether name can name a stack (CloudFormation's rule, which infra/cdk
// applies to stackName): the connector prefix calm-collector/STACK/connectors/ is built from
// it, so a name with '/' or '..' would reach into another stack's connectors.
func CheckStackName(name string) error {
	if !stackNameRe.MatchString(name) {
		return fmt.Errorf("stack name %q: use 1-128 letters, digits and '-', starting with a letter (the stackName it was deployed with)", name)
	}
	return nil
}

// Connector is one tenant of the fleet.
type Connector struct {
	Name     string
	SecretID string        // the secret's name or ARN
	Interval time.Duration // 0: every tick
	Monitors []string      // nil: the function's
	// Unfilled is a placeholder the stack created and nobody has filled in yet (TagPlaceholder
	// and a single version): it is not dispatched.
	Unfilled bool
}

// SecretsAPI is the part of the Secrets Manager client the fleet uses.
type SecretsAPI interface {
	secretsmanager.ListSecretsAPIClient
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
}

// List returns the connectors whose secrets are named prefix+NAME, in name order. Secrets
// scheduled for deletion are left out. A connector whose tags are wrong is still listed, with the
// problem in the returned error (every one named), so one bad tag never hides the others.
func List(ctx context.Context, api secretsmanager.ListSecretsAPIClient, prefix string) ([]Connector, error) {
	if prefix == "" {
		return nil, errors.New("fleet: empty connector prefix")
	}
	p := secretsmanager.NewListSecretsPaginator(api, &secretsmanager.ListSecretsInput{
		Filters:    []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{prefix}}},
		MaxResults: aws.Int32(100),
	})
	var out []Connector
	var errs []error
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the connector secrets under %q: %w", prefix, err)
		}
		for _, s := range page.SecretList {
			name, ok := strings.CutPrefix(aws.ToString(s.Name), prefix)
			// The name filter matches a prefix of words, not of characters: keep exact ones.
			if !ok || s.DeletedDate != nil {
				continue
			}
			if err := CheckName(name); err != nil {
				// Said once per listing (once per tick): it is never collected until renamed.
				errs = append(errs, fmt.Errorf("secret %s is under the connector prefix but is not collected: %w", aws.ToString(s.Name), err))
				continue
			}
			c := Connector{Name: name, SecretID: aws.ToString(s.ARN)}
			for _, t := range s.Tags {
				if err := c.setTag(aws.ToString(t.Key), aws.ToString(t.Value)); err != nil {
					errs = append(errs, fmt.Errorf("connector %s: %w", name, err))
				}
			}
			c.Unfilled = c.Unfilled && len(s.SecretVersionsToStages) <= 1
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b Connector) int { return strings.Compare(a.Name, b.Name) })
	return out, errors.Join(errs...)
}

func (c *Connector) setTag(key, value string) error {
	switch key {
	case TagInterval:
		d, err := time.ParseDuration(strings.TrimSpace(value))
		if err != nil || d < time.Minute {
			return fmt.Errorf("tag %s: %q is not a duration of a minute or more, like 15m", TagInterval, value)
		}
		c.Interval = d
	case TagPlaceholder:
		c.Unfilled = true
	case TagMonitors:
		for m := range strings.SplitSeq(value, ",") {
			if m = strings.TrimSpace(m); m != "" {
				c.Monitors = append(c.Monitors, m)
			}
		}
	}
	return nil
}

// Due reports whether a connector collects at the schedule tick at: every tick without an
// interval, else at the first tick of each interval (ticks period apart, aligned to the epoch,
// so no state is needed and a late tick still finds its interval).
func (c Connector) Due(at time.Time, period time.Duration) bool {
	if c.Interval <= period || period <= 0 {
		return true
	}
	return at.Truncate(c.Interval) != at.Add(-period).Truncate(c.Interval)
}

// AddInput is a new connector.
type AddInput struct {
	Name     string
	Secret   []byte // the service key or connector fields, already tested
	Interval time.Duration
	Monitors []string
	// KMSKeyID encrypts the secret (empty: the account's aws/secretsmanager key).
	KMSKeyID string
}

// Add creates the connector's secret prefix+Name with its tags. It fails when one exists: a
// connector's credentials are replaced with PutSecretValue, never by adding it twice.
func Add(ctx context.Context, api SecretsAPI, prefix string, in AddInput) (string, error) {
	if err := CheckName(in.Name); err != nil {
		return "", err
	}
	tags := []smtypes.Tag{{Key: aws.String("calm:connector"), Value: aws.String(in.Name)}}
	if in.Interval > 0 {
		tags = append(tags, smtypes.Tag{Key: aws.String(TagInterval), Value: aws.String(in.Interval.String())})
	}
	if len(in.Monitors) > 0 {
		tags = append(tags, smtypes.Tag{Key: aws.String(TagMonitors), Value: aws.String(strings.Join(in.Monitors, ","))})
	}
	req := &secretsmanager.CreateSecretInput{
		Name:         aws.String(prefix + in.Name),
		Description:  aws.String(fmt.Sprintf("calm-collector connector %q: the SAP BTP service key of the Cloud ALM API", in.Name)),
		SecretString: aws.String(string(in.Secret)),
		Tags:         tags,
	}
	if in.KMSKeyID != "" {
		req.KmsKeyId = aws.String(in.KMSKeyID)
	}
	out, err := api.CreateSecret(ctx, req)
	var exists *smtypes.ResourceExistsException
	var invalid *smtypes.InvalidRequestException
	if (errors.As(err, &exists) || errors.As(err, &invalid)) && scheduledForDeletion(ctx, api, prefix+in.Name) {
		return "", fmt.Errorf("connector %s was removed and Secrets Manager keeps it restorable until its recovery window ends: "+
			"restore it with `aws secretsmanager restore-secret --secret-id %s` (then replace its key with calmctl test --save or PutSecretValue), "+
			"or add it again after the window", in.Name, prefix+in.Name)
	}
	if errors.As(err, &exists) {
		return "", fmt.Errorf("connector %s exists already (secret %s); replace its key with calmctl test --save or PutSecretValue, or remove it first", in.Name, prefix+in.Name)
	}
	if err != nil {
		return "", fmt.Errorf("create the secret of connector %s: %w", in.Name, err)
	}
	return aws.ToString(out.ARN), nil
}

// scheduledForDeletion reports whether the secret id exists and is in its recovery window (AWS
// answers CreateSecret for such a name with InvalidRequestException, moto with
// ResourceExistsException).
func scheduledForDeletion(ctx context.Context, api SecretsAPI, id string) bool {
	d, err := api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	return err == nil && d.DeletedDate != nil
}

// Remove deletes the connector's secret with a recovery window of days (7–30; Secrets Manager
// can restore it until then). Its checkpoints stay in the state table.
func Remove(ctx context.Context, api SecretsAPI, prefix, name string, days int) error {
	if err := CheckName(name); err != nil {
		return err
	}
	_, err := api.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{
		SecretId: aws.String(prefix + name), RecoveryWindowInDays: aws.Int64(int64(days)),
	})
	var nf *smtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return fmt.Errorf("no connector %s (secret %s); calmctl connector list shows the connectors", name, prefix+name)
	}
	if err != nil {
		return fmt.Errorf("remove connector %s: %w", name, err)
	}
	return nil
}
