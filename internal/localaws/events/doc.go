// Package events is the stand-in's Amazon EventBridge: rules on the default
// event bus with their event patterns, targets and tags, in the JSON 1.1
// protocol with EventBridge's errors, and the delivery of AWS Batch's
// "Batch Job State Change" events, in their documented shape, to the
// CloudWatch Logs targets of the rules they match, after a short delay on
// the clock and only where the log group's resource policy lets
// events.amazonaws.com write.
package events
