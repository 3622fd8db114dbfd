// Command echo is a Lambda function for awstest's own tests: it answers with the event it got and
// the value of ECHO_GREETING from its environment.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(_ context.Context, event json.RawMessage) (map[string]any, error) {
		return map[string]any{"event": event, "greeting": os.Getenv("ECHO_GREETING")}, nil
	})
}
