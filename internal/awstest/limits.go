package awstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/calm-collector/calm-collector/internal/testkit"
)

// PutEvents' documented limits, which moto does not enforce: at most 10 entries per request,
// and a total entry size below 256 KB, computed as the AWS guide "Calculating PutEvents event
// entry size" says (14 bytes for a time, the UTF-8 bytes of source, detail type, detail and each
// resource).
const (
	PutEventsMaxEntries = 10
	PutEventsMaxBytes   = 256 << 10
)

// Limits is an HTTP front before moto that refuses what AWS refuses and moto accepts: a
// PutEvents request over PutEventsMaxEntries entries or whose entries total PutEventsMaxBytes
// or more answers 400 ValidationException, as EventBridge does; everything else goes to moto.
type Limits struct {
	// Endpoint is the front's URL: give it to the SDK in place of moto's.
	Endpoint string
	// Refused counts the requests the front refused.
	Refused atomic.Int64
}

// WithLimits starts a Limits front before the moto server (stopped when the test ends).
func (s *MotoServer) WithLimits(t testing.TB) *Limits {
	t.Helper()
	l := &Limits{}
	l.Endpoint = testkit.CheckingFront(t, s.endpoint, func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" {
			return false
		}
		msg := putEventsProblem(body)
		if msg == "" {
			return false
		}
		l.Refused.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "ValidationException", "message": msg})
		return true
	})
	return l
}

// putEventsProblem says why EventBridge would refuse a PutEvents request body ("": it would not).
func putEventsProblem(body []byte) string {
	var in struct {
		Entries []struct {
			Source, DetailType, Detail string
			Time                       *json.Number
			Resources                  []string
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return "the request is not PutEvents JSON: " + err.Error()
	}
	if n := len(in.Entries); n > PutEventsMaxEntries {
		return fmt.Sprintf("1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to %d (got %d)", PutEventsMaxEntries, n)
	}
	total := 0
	for _, e := range in.Entries {
		total += len(e.Source) + len(e.DetailType) + len(e.Detail)
		if e.Time != nil {
			total += 14
		}
		for _, r := range e.Resources {
			total += len(r)
		}
	}
	if total >= PutEventsMaxBytes {
		return fmt.Sprintf("Total size of the entries in the request is over the limit (%d bytes).", total)
	}
	return ""
}
