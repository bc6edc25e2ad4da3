// Package s3 is the stand-in's Amazon S3: the REST-XML API, path-style and
// virtual-host style, with objects kept by github.com/johannesboyne/gofakes3
// and its in-memory backend.
//
// gofakes3 serves objects, listings, versions, multipart uploads and
// DeleteObjects. This package sits in front of it and owns what the
// stack needs that gofakes3 lacks or answers differently from AWS: bucket
// names, CreateBucket's location rules, each bucket's region, tagging,
// public access block and default encryption, DeleteBucket, and the request
// body (aws-chunked decoding and the x-amz-checksum-* headers). Any
// sub-resource it does not know answers NotImplemented, so a caller never
// takes gofakes3's fallback (a listing or an object) for the answer.
//
// Defaults follow AWS as documented today: every new bucket has SSE-S3
// default encryption (GetBucketEncryption answers AES256, and
// DeleteBucketEncryption resets to it) and all four public access block
// settings on (DeletePublicAccessBlock removes them, after which
// GetPublicAccessBlock answers NoSuchPublicAccessBlockConfiguration).
package s3
