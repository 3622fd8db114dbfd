// Package funcurl owns calling a Lambda function URL that uses IAM auth: the request is signed
// with SigV4 for the service "lambda" with the caller's AWS credentials, and the region is read
// from the URL ("<id>.lambda-url.<region>.on.aws") when it names one.
//
// It is the one place the console (internal/console) signs its requests to the testconn
// function; cmd/calmctl's `test --function-url` holds an equivalent copy that can move here.
package funcurl
