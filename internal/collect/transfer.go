package collect

import (
	"context"
	"time"

	"github.com/calm-collector/calm-collector/internal/state"
)

// BinaryRetryAfter is how long a tenant that refused format=protobuf-binary is asked for
// protobuf-json only; after it, a run tries binary again (docs/transfer.md).
const BinaryRetryAfter = 24 * time.Hour

// formatClient is what a run uses of *calm.Client to ask for the format a tenant serves.
type formatClient interface {
	SetBinary(on bool)
	BinaryRefused() bool
	BinaryServed() bool
}

// tenantFormats reads what the store remembers of the tenant's formats and sets the client to
// ask for protobuf-json while a refusal of binary is younger than BinaryRetryAfter. A client
// or store without formats, or a failed read, leaves the client as it is (binary: a refusal
// costs one request more).
func (r *Runner) tenantFormats(ctx context.Context, now time.Time) (state.Formats, bool) {
	fs, oks := r.Store.(state.FormatStore)
	if !oks {
		return state.Formats{}, false
	}
	f, ok, err := fs.Formats(ctx, r.Tenant)
	if err != nil {
		r.logger().Warn("read the tenant's formats; asking for protobuf-binary and learning the tenant's shape again", "err", err)
		return state.Formats{}, false
	}
	if fc, okc := r.Client.(formatClient); okc && ok && !f.BinaryRefusedAt.IsZero() && now.Sub(f.BinaryRefusedAt) < BinaryRetryAfter {
		fc.SetBinary(false)
	}
	return f, ok
}

// saveFormats stores what this run learnt: a refusal of binary (with the run's time), or that
// binary was served again after a remembered refusal. Nothing learnt, nothing written.
//
// What the run learned of the tenant's shape (tenantShape) is written with it.
func (r *Runner) saveFormats(ctx context.Context, now time.Time, stored state.Formats, hadStored bool, shape *tenantShape) {
	fs, oks := r.Store.(state.FormatStore)
	if !oks {
		return
	}
	f, learned := shape.formats() // the stored formats, with what the run learned of the shape
	f.Tenant, f.UpdatedAt = r.Tenant, time.Time{}
	fc, okc := r.Client.(formatClient)
	switch {
	case okc && fc.BinaryRefused():
		f.BinaryRefusedAt, learned = now, true
	case okc && fc.BinaryServed() && (!hadStored || !stored.BinaryRefusedAt.IsZero()):
		f.BinaryRefusedAt, learned = time.Time{}, true
	}
	if !learned {
		return
	}
	if err := fs.PutFormats(ctx, f); err != nil {
		r.logger().Warn("store the tenant's formats; the next run asks again", "err", err)
	}
}
