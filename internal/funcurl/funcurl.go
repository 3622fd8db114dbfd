package funcurl

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Region reads the region from a function URL host "<id>.lambda-url.<region>.on.aws"; "" when
// the host has another form.
func Region(host string) string {
	parts := strings.Split(host, ".")
	if len(parts) == 5 && parts[1] == "lambda-url" && parts[3] == "on" && parts[4] == "aws" {
		return parts[2]
	}
	return ""
}

// Parse checks a function URL given by an operator and returns it.
func Parse(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("function URL %q is not a URL like https://<id>.lambda-url.<region>.on.aws/", raw)
	}
	return u, nil
}

// Caller sends signed requests to one function URL.
type Caller struct {
	// AWS gives the credentials and, when the URL names none, the region.
	AWS aws.Config
	// HTTPClient sends the requests; nil means a client with a two-minute timeout.
	HTTPClient *http.Client
	// Now is the signing clock; nil means time.Now.
	Now func() time.Time
}

// Do sends method to target with body (nil for none) signed with SigV4 for "lambda". The body
// is sent as JSON. The caller closes the response body.
func (c *Caller) Do(ctx context.Context, method, target string, body []byte) (*http.Response, error) {
	u, err := Parse(target)
	if err != nil {
		return nil, err
	}
	region := Region(u.Hostname())
	if region == "" {
		region = c.AWS.Region
	}
	if region == "" {
		return nil, errors.New("no AWS region: the function URL does not name one; set AWS_REGION")
	}
	if c.AWS.Credentials == nil {
		return nil, errors.New("no AWS credentials to sign the request: configure a profile or AWS_ACCESS_KEY_ID")
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build the request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	creds, err := c.AWS.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("get AWS credentials to sign the request: %w", err)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hash, "lambda", region, now()); err != nil {
		return nil, fmt.Errorf("sign the request: %w", err)
	}
	hc := c.HTTPClient
	if hc == nil {
		// The test has its own per-check limits; this bounds a function that never answers.
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
	}
	return resp, nil
}
