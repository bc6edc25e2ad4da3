// Package awsproto holds the wire pieces the stand-in's services share: the
// AWS error value, request IDs, the writers for each AWS protocol's
// responses and errors (query and EC2 query XML, JSON 1.1, REST-JSON,
// REST-XML), and one service kit per protocol family (JSON, Query, EC2,
// RESTJSON, and S3's errors) that serves a service from its operations
// table: finding the operation, answering one the table lacks as
// NotImplemented, writing results and errors, and the family's throttling
// error. Services decide what to answer; this package only says how AWS
// spells it on the wire.
//
// A service embeds its family's kit and fills in the table in its New, so
// adding an operation is one table entry and its handler.
package awsproto
