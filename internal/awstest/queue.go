package awstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// DrainQueue receives and deletes the queue's messages until a receive comes back empty, and
// returns their bodies in the order received.
func DrainQueue(t testing.TB, q *sqs.Client, url string) []string {
	t.Helper()
	ctx := context.Background()
	var bodies []string
	for {
		res, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Messages) == 0 {
			return bodies
		}
		for _, msg := range res.Messages {
			bodies = append(bodies, aws.ToString(msg.Body))
			if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: msg.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}
