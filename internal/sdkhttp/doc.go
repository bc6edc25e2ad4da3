// Package sdkhttp is the HTTP client batchxray gives the AWS SDK. It works
// around a race between the SDK and net/http: the SDK closes a request's
// body as soon as the response headers arrive, while net/http may still read
// that body once more before it is done writing; the read fails, and
// net/http closes the connection under the response being read
// ("use of closed network connection", aws/aws-sdk-go-v2#2737). Against a
// fast endpoint such as batchxray local it happened to about one call in ten
// with large responses.
package sdkhttp
