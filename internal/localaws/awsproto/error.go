package awsproto

import (
	"fmt"
	"net/http"
)

// Error is an AWS API error as a service returns it: the code the SDK's
// typed errors are chosen by, a message, and the HTTP status.
type Error struct {
	Code    string
	Message string
	Status  int
	// Sender marks a client-side fault in the query protocols'
	// <Type>Sender</Type>; false means Receiver.
	Sender bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns a client error (the caller's fault) with the given status.
func Errorf(status int, code, format string, a ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, a...), Status: status, Sender: status < 500}
}

// NotImplemented is the answer for an operation the stand-in does not serve.
// 501 is not retried by the SDK, so the caller sees it at once.
func NotImplemented(service, operation string) *Error {
	if operation == "" {
		operation = "this operation"
	}
	return &Error{
		Code:    "NotImplemented",
		Message: fmt.Sprintf("batchxray local does not implement %s %s", service, operation),
		Status:  http.StatusNotImplemented,
	}
}
