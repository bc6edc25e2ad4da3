package jobrunner

import (
	"context"
	"errors"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"
)

// awsCallSpans makes every AWS SDK call a CLIENT span with what AWS's
// OpenTelemetry-to-X-Ray mapping reads: rpc.system aws-api makes it namespace
// aws, rpc.service names it (S3, as the X-Ray SDK's awsv2 instrumentor names
// its subsegment), rpc.method is its operation, aws.region and
// aws.request_id its aws fields, and the HTTP status its error or fault.
// It is our own, not contrib's otelaws: that package is deprecated without a
// successor and links the DynamoDB, SQS and SNS clients for their attributes.
type awsCallSpans struct {
	tr   oteltrace.Tracer
	prop propagation.TextMapPropagator
}

// add puts the middlewares on stack: the span around the call, and the
// trace header on each attempt's request.
func (m awsCallSpans) add(stack *middleware.Stack) error {
	// After: the service's ID, operation and region are in the context by
	// then (the client's own Initialize middlewares put them there).
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("BatchxrayOTelSpan", m.span), middleware.After); err != nil {
		return err
	}
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("BatchxrayOTelHeader", m.header), middleware.After)
}

func (m awsCallSpans) span(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
	attrs := []attribute.KeyValue{
		attribute.String("rpc.system", "aws-api"),
		attribute.String("rpc.service", service),
		attribute.String("rpc.method", op),
		attribute.String("aws.region", awsmiddleware.GetRegion(ctx)),
	}
	if p, ok := in.Parameters.(*s3.PutObjectInput); ok && p.Bucket != nil {
		// As recordS3Bucket does for the X-Ray SDK; the mapping keeps it as
		// metadata.
		attrs = append(attrs, attribute.String("aws.s3.bucket", *p.Bucket))
	}
	ctx, sp := m.tr.Start(ctx, service+"."+op, oteltrace.WithSpanKind(oteltrace.SpanKindClient), oteltrace.WithAttributes(attrs...))
	defer sp.End()
	out, md, err := next.HandleInitialize(ctx, in)

	status, requestID := 0, ""
	if raw, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok {
		status = raw.StatusCode
	}
	if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok {
		requestID = id
	}
	if err != nil {
		var st interface{ HTTPStatusCode() int }
		if errors.As(err, &st) {
			status = st.HTTPStatusCode()
		}
		var rid interface{ ServiceRequestID() string }
		if errors.As(err, &rid) && rid.ServiceRequestID() != "" {
			requestID = rid.ServiceRequestID()
		}
		sp.RecordError(err)
		sp.SetStatus(codes.Error, err.Error())
	}
	if status != 0 {
		sp.SetAttributes(attribute.Int("http.response.status_code", status))
	}
	if requestID != "" {
		sp.SetAttributes(attribute.String("aws.request_id", requestID))
	}
	return out, md, err
}

// header sends the trace header with each attempt, so a service that
// traces (or X-Ray's inferred segment) continues this call's trace.
func (m awsCallSpans) header(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	if req, ok := in.Request.(*smithyhttp.Request); ok {
		m.prop.Inject(ctx, propagation.HeaderCarrier(req.Header))
	}
	return next.HandleFinalize(ctx, in)
}
