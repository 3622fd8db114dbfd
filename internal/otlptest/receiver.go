package otlptest

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

// Receiver is a running OTLP/HTTP receiver and what it has received.
type Receiver struct {
	// Endpoint is the receiver's base URL, e.g. "http://127.0.0.1:41234" (POST /v1/metrics,
	// /v1/logs, /v1/traces).
	Endpoint string
	// Metrics, Logs and Traces hold everything the receiver accepted.
	Metrics *consumertest.MetricsSink
	Logs    *consumertest.LogsSink
	Traces  *consumertest.TracesSink
}

// Start runs an OTLP/HTTP receiver (no gRPC) on 127.0.0.1 at a free port and shuts it down when the
// test ends. It fails the test when the receiver cannot be started.
func Start(t testing.TB) *Receiver {
	t.Helper()
	var lastErr error
	// A free port found by listening on :0 can be taken by someone else before the receiver binds
	// it; try a few times rather than fail on that race.
	for range 5 {
		r, shutdown, err := start()
		if err == nil {
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := shutdown(ctx); err != nil {
					t.Errorf("otlptest: shut down receiver: %v", err)
				}
			})
			return r
		}
		lastErr = err
	}
	t.Fatalf("otlptest: start OTLP receiver: %v", lastErr)
	return nil
}

func start() (*Receiver, func(context.Context) error, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	factory := otlpreceiver.NewFactory()
	cfg := factory.CreateDefaultConfig().(*otlpreceiver.Config)
	// The default config has both protocols as defaults that are off until asked for: turn on
	// HTTP only.
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = addr

	r := &Receiver{
		Endpoint: "http://" + addr,
		Metrics:  new(consumertest.MetricsSink),
		Logs:     new(consumertest.LogsSink),
		Traces:   new(consumertest.TracesSink),
	}
	ctx := context.Background()
	set := receivertest.NewNopSettings(factory.Type())
	// The signals share one receiver (the factory keys it by the config pointer).
	mr, err := factory.CreateMetrics(ctx, set, cfg, r.Metrics)
	if err != nil {
		return nil, nil, fmt.Errorf("create metrics receiver: %w", err)
	}
	lr, err := factory.CreateLogs(ctx, set, cfg, r.Logs)
	if err != nil {
		return nil, nil, fmt.Errorf("create logs receiver: %w", err)
	}
	tr, err := factory.CreateTraces(ctx, set, cfg, r.Traces)
	if err != nil {
		return nil, nil, fmt.Errorf("create traces receiver: %w", err)
	}
	// mr, lr and tr wrap the same shared receiver: starting and stopping it once is enough, and the
	// shutdown also removes it from the factory's table, which matters after a failed start.
	host := componenttest.NewNopHost()
	if err := mr.Start(ctx, host); err != nil {
		_ = mr.Shutdown(ctx)
		return nil, nil, fmt.Errorf("start receiver on %s: %w", addr, err)
	}
	for _, c := range []component.Component{lr, tr} {
		if err := c.Start(ctx, host); err != nil {
			_ = mr.Shutdown(ctx)
			return nil, nil, fmt.Errorf("start receiver on %s: %w", addr, err)
		}
	}
	return r, mr.Shutdown, nil
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}
