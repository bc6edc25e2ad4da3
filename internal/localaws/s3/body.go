package s3

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// prepareBody turns r's body into the object bytes and checks them against
// what the request declares. An aws-chunked body (SigV4 streaming, signed
// or not, with or without trailing checksums) is decoded here because
// gofakes3 only understands signed chunks without trailers; its trailers
// become headers. Then every x-amz-checksum-* header and Content-MD5 is
// verified, as S3 does: a mismatch is BadDigest.
func prepareBody(r *http.Request) *awsproto.Error {
	if r.Body == nil {
		return nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return awsproto.Errorf(http.StatusBadRequest, "IncompleteBody", "read request body: %v", err)
	}
	_ = r.Body.Close()
	if isAWSChunked(r.Header) {
		data, trailers, err := decodeAWSChunked(body)
		if err != nil {
			return awsproto.Errorf(http.StatusBadRequest, "IncompleteBody", "decode aws-chunked body: %v", err)
		}
		if want := r.Header.Get("X-Amz-Decoded-Content-Length"); want != "" && want != strconv.Itoa(len(data)) {
			return awsproto.Errorf(http.StatusBadRequest, "IncompleteBody",
				"You did not provide the number of bytes specified by the x-amz-decoded-content-length header (%s, got %d)", want, len(data))
		}
		for k, vs := range trailers {
			if strings.HasPrefix(strings.ToLower(k), "x-amz-checksum-") {
				r.Header[k] = vs
			}
		}
		body = data
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		r.ContentLength = int64(len(body))
		r.Header.Del("X-Amz-Decoded-Content-Length")
		r.Header.Del("X-Amz-Trailer")
		r.Header.Del("X-Amz-Content-Sha256")
		dropContentEncoding(r.Header, "aws-chunked")
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return checkDigests(r.Header, body)
}

func isAWSChunked(h http.Header) bool {
	if strings.HasPrefix(h.Get("X-Amz-Content-Sha256"), "STREAMING-") {
		return true
	}
	for _, v := range strings.Split(h.Get("Content-Encoding"), ",") {
		if strings.TrimSpace(v) == "aws-chunked" {
			return true
		}
	}
	return false
}

func dropContentEncoding(h http.Header, drop string) {
	var keep []string
	for _, v := range strings.Split(h.Get("Content-Encoding"), ",") {
		if v = strings.TrimSpace(v); v != "" && v != drop {
			keep = append(keep, v)
		}
	}
	if len(keep) == 0 {
		h.Del("Content-Encoding")
		return
	}
	h.Set("Content-Encoding", strings.Join(keep, ","))
}

// decodeAWSChunked decodes S3's aws-chunked body: chunks of
// "<hex size>[;chunk-signature=...]\r\n<data>\r\n", a zero-size chunk, then
// optional "name:value\r\n" trailers and a final "\r\n".
func decodeAWSChunked(b []byte) (data []byte, trailers http.Header, err error) {
	data = []byte{}
	for {
		line, rest, ok := bytes.Cut(b, []byte("\r\n"))
		if !ok {
			return nil, nil, errors.New("chunk header without CRLF")
		}
		sizeField, _, _ := bytes.Cut(line, []byte(";"))
		size, err := strconv.ParseUint(strings.TrimSpace(string(sizeField)), 16, 31)
		if err != nil {
			return nil, nil, errors.New("bad chunk size")
		}
		b = rest
		if size == 0 {
			break
		}
		if uint64(len(b)) < size+2 || !bytes.Equal(b[size:size+2], []byte("\r\n")) {
			return nil, nil, errors.New("chunk shorter than its size")
		}
		data = append(data, b[:size]...)
		b = b[size+2:]
	}
	trailers = http.Header{}
	for len(b) > 0 {
		line, rest, _ := bytes.Cut(b, []byte("\r\n"))
		b = rest
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return nil, nil, errors.New("trailer without a colon")
		}
		trailers.Add(strings.TrimSpace(string(k)), strings.TrimSpace(string(v)))
	}
	return data, trailers, nil
}

// crc64NVME is the CRC-64/NVME table (the reversed polynomial).
var crc64NVME = sync.OnceValue(func() *crc64.Table { return crc64.MakeTable(0x9a6c9329ac4bc9b5) })

// newChecksum returns the hash of one of S3's flexible checksum algorithms
// by its header suffix, or nil for a suffix that names none.
func newChecksum(alg string) hash.Hash {
	switch alg {
	case "crc32":
		return crc32.NewIEEE()
	case "crc32c":
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case "crc64nvme":
		return crc64.New(crc64NVME())
	case "sha1":
		return sha1.New()
	case "sha256":
		return sha256.New()
	}
	return nil
}

func checkDigests(h http.Header, body []byte) *awsproto.Error {
	if v, ok := h["Content-Md5"]; ok {
		want, err := base64.StdEncoding.DecodeString(strings.Join(v, ""))
		if err != nil || len(want) != md5.Size {
			return awsproto.Errorf(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified is not valid.")
		}
		if got := md5.Sum(body); !bytes.Equal(got[:], want) {
			return awsproto.Errorf(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
		}
	}
	for k := range h {
		alg, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-checksum-")
		if !ok {
			continue
		}
		sum := newChecksum(alg)
		if sum == nil {
			continue
		}
		sum.Write(body)
		if got := base64.StdEncoding.EncodeToString(sum.Sum(nil)); got != h.Get(k) {
			return awsproto.Errorf(http.StatusBadRequest, "BadDigest",
				"The %s you specified did not match the calculated checksum.", strings.ToUpper(alg))
		}
	}
	return nil
}

// objectHeaders are the prefixes of the x-amz-* request headers that
// describe the object. gofakes3 stores every x-amz-* header with the object
// and returns it on GetObject, so the rest (the signature's date and
// payload hash, the SDK's own headers) are dropped before it sees them.
var objectHeaders = []string{
	"X-Amz-Meta-", "X-Amz-Checksum-", "X-Amz-Copy-Source", "X-Amz-Acl", "X-Amz-Grant-",
	"X-Amz-Storage-Class", "X-Amz-Server-Side-Encryption", "X-Amz-Tagging",
	"X-Amz-Website-Redirect-Location", "X-Amz-Object-Lock-", "X-Amz-Metadata-Directive",
}

func stripPlumbing(h http.Header) {
	for k := range h {
		if !strings.HasPrefix(k, "X-Amz-") {
			continue
		}
		keep := false
		for _, p := range objectHeaders {
			keep = keep || strings.HasPrefix(k, p)
		}
		if !keep || k == "X-Amz-Checksum-Mode" {
			h.Del(k)
		}
	}
}

// withChecksumsOnlyWhenAsked drops the stored x-amz-checksum-* headers from
// a GetObject or HeadObject answer unless the caller asked for them
// (x-amz-checksum-mode: ENABLED) for the whole object, as S3 does: a range
// is not what the full object's checksum covers.
func withChecksumsOnlyWhenAsked(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	if strings.EqualFold(r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") && r.Header.Get("Range") == "" {
		return w
	}
	return &headerFilter{ResponseWriter: w, filter: func(h http.Header) {
		for k := range h {
			if strings.HasPrefix(k, "X-Amz-Checksum-") {
				h.Del(k)
			}
		}
	}}
}

// headerFilter edits the response headers once, just before they are sent.
type headerFilter struct {
	http.ResponseWriter
	filter func(http.Header)
	done   bool
}

func (f *headerFilter) WriteHeader(status int) {
	if !f.done {
		f.done = true
		f.filter(f.Header())
	}
	f.ResponseWriter.WriteHeader(status)
}

func (f *headerFilter) Write(b []byte) (int, error) {
	if !f.done {
		f.WriteHeader(http.StatusOK)
	}
	return f.ResponseWriter.Write(b)
}
