// Package awsproto holds the wire pieces the stand-in's services share: the
// AWS error value, request IDs, and the writers for each AWS protocol's
// responses and errors (query and EC2 query XML, JSON 1.1, REST-JSON,
// REST-XML). Services decide what to answer; this package only says how AWS
// spells it on the wire.
package awsproto
