package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// QueueAPI is the part of the SQS client Dispatch uses.
type QueueAPI interface {
	SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Message is the body of one work message: the collect function's input for one tenant.
type Message struct {
	Connector string   `json:"connector"`
	Monitors  []string `json:"monitors,omitempty"`
}

// Dispatch sends one message per connector due at the tick (see Connector.Due) to the queue,
// ten to a request, and returns how many it sent. Placeholders nobody has filled in yet
// (Connector.Unfilled) are not sent: their runs could only fail. A message the queue refused is
// named in the error; the others are sent all the same, so one tenant never holds up the rest.
func Dispatch(ctx context.Context, api QueueAPI, queueURL string, at time.Time, period time.Duration, cs []Connector) (int, error) {
	var due []Connector
	for _, c := range cs {
		if !c.Unfilled && c.Due(at, period) {
			due = append(due, c)
		}
	}
	sent := 0
	var errs []error
	for start := 0; start < len(due); start += 10 {
		batch := due[start:min(start+10, len(due))]
		entries := make([]sqstypes.SendMessageBatchRequestEntry, len(batch))
		for i, c := range batch {
			body, _ := json.Marshal(Message{Connector: c.Name, Monitors: c.Monitors}) // strings only: cannot fail
			entries[i] = sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body))}
		}
		out, err := api.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
		if err != nil {
			errs = append(errs, fmt.Errorf("queue %d connectors (%s …): %w", len(batch), batch[0].Name, err))
			continue
		}
		sent += len(out.Successful)
		for _, f := range out.Failed {
			i, _ := strconv.Atoi(aws.ToString(f.Id))
			errs = append(errs, fmt.Errorf("queue connector %s: %s %s", batch[i].Name, aws.ToString(f.Code), aws.ToString(f.Message)))
		}
	}
	return sent, errors.Join(errs...)
}
