package projection

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Glue makes the two Glue calls Tenants needs (analytics.ProjectionActions) as SigV4-signed
// requests of Glue's JSON protocol. The SDK's Glue client would do the same, but linking it
// costs every start of the collect function the init of its generated schemas (about 16 ms,
// BENCHMARKS.md) for two calls a tick.
type Glue struct {
	// AWS gives the region, the credentials, the HTTP client and the endpoint override
	// (BaseEndpoint: CALM_ENDPOINT_URL, AWS_ENDPOINT_URL, moto in tests).
	AWS aws.Config
	// Now is the signing clock; nil means time.Now.
	Now func() time.Time
}

// GlueError is an error answer of Glue: its status, its error type ("EntityNotFoundException",
// "ConcurrentModificationException", …) and message.
type GlueError struct {
	Action, Type, Message string
	StatusCode            int
}

func (e *GlueError) Error() string {
	return fmt.Sprintf("glue %s: %d %s: %s", e.Action, e.StatusCode, e.Type, e.Message)
}

// getTable reads a table: the JSON object GetTable answers as its "Table".
func (g *Glue) getTable(ctx context.Context, t ArchiveTable) (map[string]json.RawMessage, error) {
	var out struct{ Table map[string]json.RawMessage }
	err := g.call(ctx, "GetTable", map[string]string{"DatabaseName": t.Database, "Name": t.Table}, &out)
	if err == nil && out.Table == nil {
		err = errors.New("Glue returned no table")
	}
	return out.Table, err
}

// updateTable writes input over the table t (UpdateTable); catalog and version are the table's
// as read (empty: left out), so that a concurrent change fails the update.
func (g *Glue) updateTable(ctx context.Context, t ArchiveTable, catalog, version string, input map[string]json.RawMessage) error {
	in := map[string]any{"DatabaseName": t.Database, "TableInput": input}
	if catalog != "" {
		in["CatalogId"] = catalog
	}
	if version != "" {
		in["VersionId"] = version
	}
	return g.call(ctx, "UpdateTable", in, nil)
}

// call posts in to the Glue action and decodes the answer into out (nil: none).
func (g *Glue) call(ctx context.Context, action string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("glue %s: %w", action, err)
	}
	req, err := g.signed(ctx, action, body)
	if err != nil {
		return fmt.Errorf("glue %s: %w", action, err)
	}
	hc := g.AWS.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("glue %s: %w", action, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("glue %s: read the answer: %w", action, err)
	}
	if resp.StatusCode != http.StatusOK {
		return glueError(action, resp, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("glue %s: decode the answer: %w", action, err)
		}
	}
	return nil
}

// signed is the request of action with body, signed for Glue in the configured region.
func (g *Glue) signed(ctx context.Context, action string, body []byte) (*http.Request, error) {
	region := g.AWS.Region
	if region == "" {
		return nil, errors.New("no AWS region: set AWS_REGION")
	}
	if g.AWS.Credentials == nil {
		return nil, errors.New("no AWS credentials to sign the request")
	}
	endpoint := "https://glue." + region + ".amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		endpoint += ".cn"
	}
	if g.AWS.BaseEndpoint != nil {
		endpoint = *g.AWS.BaseEndpoint
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(endpoint, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSGlue."+action)
	creds, err := g.AWS.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("get AWS credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "glue", region, now()); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return req, nil
}

// glueError reads an error answer of the JSON protocol: the type in X-Amzn-ErrorType or the
// body's "__type" (either may carry a namespace before '#' and details after ':').
func glueError(action string, resp *http.Response, b []byte) *GlueError {
	var body struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		MessageC string `json:"Message"`
	}
	_ = json.Unmarshal(b, &body) // a body that is no JSON still names the status
	typ := resp.Header.Get("X-Amzn-ErrorType")
	if typ == "" {
		typ = body.Type
	}
	typ, _, _ = strings.Cut(typ, ":")
	if i := strings.LastIndexByte(typ, '#'); i >= 0 {
		typ = typ[i+1:]
	}
	msg := body.Message
	if msg == "" {
		msg = body.MessageC
	}
	if typ == "" && msg == "" {
		msg = strings.TrimSpace(string(b[:min(len(b), 200)]))
	}
	return &GlueError{Action: action, Type: typ, Message: msg, StatusCode: resp.StatusCode}
}
