package state

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Checkpoint is how far one monitor of one tenant has been collected, and how its last run went.
type Checkpoint struct {
	Tenant      string    `json:"tenant"`
	Monitor     string    `json:"monitor"`
	Host        string    `json:"host,omitempty"`       // API host (scheme://host[:port]) the tenant's data came from; "" in state written before hosts were recorded
	Next        time.Time `json:"next"`                 // start of the first window NOT yet delivered (everything before it was accepted by every sink)
	UpdatedAt   time.Time `json:"updatedAt,omitzero"`   // when it was stored; Put fills it in when zero
	LastRunAt   time.Time `json:"lastRunAt,omitzero"`   // last attempt
	LastSuccess time.Time `json:"lastSuccess,omitzero"` // last run where the monitor succeeded
	LastError   string    `json:"lastError,omitempty"`  // "" when the last run succeeded (never contains a secret)
	LastPoints  int       `json:"lastPoints"`           // records delivered in the last run
	LastWindows int       `json:"lastWindows"`          // windows delivered in the last run
	// Cap is the size the tenant was found to cut this monitor's result sets at (onLimit=TRUNCATE
	// with a server cap); 0 while none was found. A total equal to it is read in parts.
	Cap int `json:"cap,omitempty"`
	// Delay is the tenant's usual delay for this monitor: how long after a window's end its
	// last late points were found (0: none found yet). The settle horizon should exceed it.
	Delay time.Duration `json:"delay,omitempty"`
}

// Lease gives one run the right to collect a tenant until Expires.
type Lease struct {
	Tenant  string    `json:"tenant"`
	Owner   string    `json:"owner"`
	Expires time.Time `json:"expires"`
}

// Mark remembers an emitted event: its content hash, until Expires.
type Mark struct {
	Hash    string    `json:"hash"`
	Expires time.Time `json:"expires"`
	// Open is the start of a status event not yet closed when it was last seen (zero when it
	// is closed, or the mark is not an event's): a run reads back to it, so that the event's
	// later changes are seen also where the API filters on start time.
	Open time.Time `json:"open,omitzero"`
}

// HeldError is returned by Acquire (and Renew) when another run holds an unexpired lease.
type HeldError struct {
	Tenant  string
	Owner   string
	Expires time.Time
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("tenant %q is being collected by %s until %s; try again after it",
		e.Tenant, e.Owner, e.Expires.UTC().Format(time.RFC3339))
}

// ErrStale is returned (wrapped) by Put when the stored checkpoint's Next is later than the one
// given: checkpoints never move backwards.
var ErrStale = errors.New("stale checkpoint: a later one is already stored")

// ErrNotHeld is returned (wrapped) by Renew and Release when the lease is no longer the caller's:
// it was released, or it expired and nobody holds it now.
var ErrNotHeld = errors.New("lease is not held by this owner")

// Store is what both stores implement.
type Store interface {
	// Get returns the checkpoint of one monitor; false when none is stored.
	Get(ctx context.Context, tenant, monitor string) (Checkpoint, bool, error)
	// List returns the checkpoints of every monitor of a tenant, ordered by monitor.
	List(ctx context.Context, tenant string) ([]Checkpoint, error)
	// Put stores a checkpoint. It never moves Next backwards: a Next earlier than the stored one
	// returns ErrStale. An equal Next is accepted (a run that delivered nothing still records itself).
	Put(ctx context.Context, cp Checkpoint) error
	// Acquire takes the tenant's lease for ttl. It returns *HeldError while another owner holds an
	// unexpired lease; the same owner may acquire again (which extends it).
	Acquire(ctx context.Context, tenant, owner string, ttl time.Duration) (Lease, error)
	// Renew extends a lease that is still the caller's: *HeldError when someone else took it over,
	// ErrNotHeld when it is gone.
	Renew(ctx context.Context, l Lease, ttl time.Duration) (Lease, error)
	// Release gives a lease up, only if it is still the caller's (ErrNotHeld otherwise).
	Release(ctx context.Context, l Lease) error
	// Marks returns the marks of a monitor that are unexpired at now, by event key. now is the
	// caller's clock (the run's), not the store's: a mark's expiry is computed from the run's
	// clock, so it must be compared with the same clock.
	Marks(ctx context.Context, tenant, monitor string, now time.Time) (map[string]Mark, error)
	// PutMarks inserts or replaces marks by event key; marks expired at now (the caller's clock)
	// are dropped in time.
	PutMarks(ctx context.Context, tenant, monitor string, now time.Time, marks map[string]Mark) error
	FormatStore
	UsageStore
}

// Option changes how a store is built.
type Option func(*options)

type options struct {
	now func() time.Time
}

// WithClock makes the store read time from now instead of time.Now (tests).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

func buildOptions(opts []Option) options {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// DynamoPrefix starts a spec naming a DynamoDB table.
const DynamoPrefix = "dynamodb://"

// Open opens the store a spec names: "dynamodb://TABLE" (needs awsCfg) or a directory path for a
// FileStore (created when missing).
func Open(ctx context.Context, spec string, awsCfg *aws.Config, opts ...Option) (Store, error) {
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "":
		return nil, errors.New("open state store: the spec is empty: give a directory or dynamodb://TABLE")
	case strings.HasPrefix(spec, DynamoPrefix):
		table := strings.TrimPrefix(spec, DynamoPrefix)
		if table == "" || strings.Contains(table, "/") {
			return nil, fmt.Errorf("open state store %q: want dynamodb://TABLE with a table name and nothing after it", spec)
		}
		if awsCfg == nil {
			return nil, fmt.Errorf("open state store %q: no AWS configuration was given", spec)
		}
		return NewDynamoStore(dynamodb.NewFromConfig(*awsCfg), table, opts...), nil
	case strings.Contains(spec, "://"):
		return nil, fmt.Errorf("open state store %q: unknown scheme: give a directory or dynamodb://TABLE", spec)
	default:
		return NewFileStore(spec, opts...)
	}
}

// checkNames validates the tenant and monitor names every method takes. '#' is reserved because
// DynamoDB sort keys are built as "mark#<monitor>#<key>".
func checkNames(tenant, monitor string, withMonitor bool) error {
	var errs []error
	if err := checkName("tenant", tenant); err != nil {
		errs = append(errs, err)
	}
	if withMonitor {
		if err := checkName("monitor", monitor); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func checkName(field, v string) error {
	if v == "" {
		return fmt.Errorf("%s is empty", field)
	}
	if strings.ContainsAny(v, "#/\\") || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%s %q contains '#', a slash or a control character", field, v)
	}
	return nil
}

// expired reports whether something expiring at exp is over at now. Both stores compare at
// millisecond precision, the precision DynamoDB conditions use.
func expired(exp, now time.Time) bool { return exp.UnixMilli() < now.UnixMilli() }

// leaseExpiry is when a lease taken at now for ttl ends, at the precision the stores keep.
func leaseExpiry(now time.Time, ttl time.Duration) time.Time {
	return now.Add(ttl).Truncate(time.Millisecond).UTC()
}

func checkTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("lease ttl %s is not positive", ttl)
	}
	return nil
}
