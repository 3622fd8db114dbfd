package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// synthErrors is the gate of `make synth` and `make synth-scale`: none for the default stack,
// and a cdk-nag finding (an unencrypted queue without TLS enforcement) is reported with the
// construct's path and the rule.
func TestSynthErrors(t *testing.T) {
	s := defaults(t)
	check(t, "synth", func() { s.app.Synth(nil) })
	if errs := synthErrors(s.app); len(errs) != 0 {
		t.Errorf("default stack: %d errors, want none:\n%s", len(errs), strings.Join(errs, "\n"))
	}

	bad := synthWith(t, nil, func(s *CollectorStack) {
		awssqs.NewCfnQueue(s.Stack, jsii.String("Unencrypted"), &awssqs.CfnQueueProps{})
	})
	check(t, "synth", func() { bad.app.Synth(nil) })
	errs := synthErrors(bad.app)
	found := false
	for _, e := range errs {
		if strings.HasPrefix(e, "CalmCollector/Unencrypted: ") && strings.Contains(e, "AwsSolutions-SQS") {
			found = true
		}
	}
	if !found {
		t.Errorf("no AwsSolutions-SQS error on CalmCollector/Unencrypted among %d errors:\n%s", len(errs), strings.Join(errs, "\n"))
	}
}
