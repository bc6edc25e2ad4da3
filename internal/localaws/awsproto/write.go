package awsproto

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
)

// NewRequestID returns a request ID in AWS's UUID shape.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// AsError turns any error into an *Error; an unknown error is an internal
// failure (500).
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: "InternalFailure", Message: err.Error(), Status: http.StatusInternalServerError}
}

// QueryAction is the operation of a query-protocol request (IAM, STS, EC2):
// the Action form value. The body must already be buffered.
func QueryAction(r *http.Request, body []byte) string {
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	for _, kv := range strings.Split(string(body), "&") {
		if v, ok := strings.CutPrefix(kv, "Action="); ok {
			return v
		}
	}
	return ""
}

// JSONTarget is the operation of a JSON 1.0/1.1 request (ECR, CloudWatch
// Logs): what follows the dot in X-Amz-Target.
func JSONTarget(r *http.Request) string {
	t := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(t, '.'); i >= 0 {
		return t[i+1:]
	}
	return t
}

// WriteJSON writes a JSON 1.1 response (ECR, CloudWatch Logs).
func WriteJSON(w http.ResponseWriter, v any) {
	writeJSON(w, "application/x-amz-json-1.1", http.StatusOK, v)
}

// WriteRESTJSON writes a REST-JSON response (Batch, X-Ray).
func WriteRESTJSON(w http.ResponseWriter, v any) {
	writeJSON(w, "application/json", http.StatusOK, v)
}

func writeJSON(w http.ResponseWriter, contentType string, status int, v any) {
	if v == nil {
		v = struct{}{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"__type":"InternalFailure","message":"encode response"}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-RequestId", NewRequestID())
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// WriteJSONError writes an error in the JSON 1.1 protocol: the code in
// __type, as ECR and CloudWatch Logs send it.
func WriteJSONError(w http.ResponseWriter, e *Error) {
	writeJSON(w, "application/x-amz-json-1.1", e.Status, map[string]string{"__type": e.Code, "message": e.Message})
}

// WriteRESTJSONError writes an error in the REST-JSON protocol: the code in
// the X-Amzn-ErrorType header and the body, as Batch and X-Ray send it.
func WriteRESTJSONError(w http.ResponseWriter, e *Error) {
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	writeJSON(w, "application/json", e.Status, map[string]string{"__type": e.Code, "message": e.Message})
}

// Query protocol namespaces.
const (
	IAMNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	STSNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	EC2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"
)

// WriteQuery writes a query-protocol response (IAM, STS):
// <ActionResponse><ActionResult>result</ActionResult><ResponseMetadata>.
// result is a struct (or nil) whose fields become the children of
// <ActionResult>; it must not have an XMLName field.
func WriteQuery(w http.ResponseWriter, namespace, action string, result any) {
	type inner struct {
		XMLName xml.Name
		Inner   []byte `xml:",innerxml"`
	}
	type envelope struct {
		XMLName   xml.Name
		Xmlns     string `xml:"xmlns,attr"`
		Result    *inner
		RequestID string `xml:"ResponseMetadata>RequestId"`
	}
	env := envelope{XMLName: xml.Name{Local: action + "Response"}, Xmlns: namespace, RequestID: NewRequestID()}
	if result != nil {
		b, err := innerXML(result)
		if err != nil {
			WriteQueryError(w, AsError(err))
			return
		}
		env.Result = &inner{XMLName: xml.Name{Local: action + "Result"}, Inner: b}
	}
	writeXML(w, http.StatusOK, env)
}

// WriteQueryError writes a query-protocol error (IAM, STS).
func WriteQueryError(w http.ResponseWriter, e *Error) {
	typ := "Receiver"
	if e.Sender {
		typ = "Sender"
	}
	type errBody struct {
		Type    string
		Code    string
		Message string
	}
	writeXML(w, e.Status, struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		Error     errBody
		RequestID string `xml:"RequestId"`
	}{Error: errBody{typ, e.Code, e.Message}, RequestID: NewRequestID()})
}

// WriteEC2 writes an EC2 query response: <ActionResponse> holding
// <requestId> and then result's fields.
func WriteEC2(w http.ResponseWriter, action string, result any) {
	b, err := innerXML(result)
	if err != nil {
		WriteEC2Error(w, AsError(err))
		return
	}
	type envelope struct {
		XMLName   xml.Name
		Xmlns     string `xml:"xmlns,attr"`
		RequestID string `xml:"requestId"`
		Inner     []byte `xml:",innerxml"`
	}
	writeXML(w, http.StatusOK, envelope{XMLName: xml.Name{Local: action + "Response"}, Xmlns: EC2Namespace, RequestID: NewRequestID(), Inner: b})
}

// WriteEC2Error writes an EC2 error: <Response><Errors><Error>.
func WriteEC2Error(w http.ResponseWriter, e *Error) {
	type errBody struct {
		Code    string
		Message string
	}
	writeXML(w, e.Status, struct {
		XMLName   xml.Name  `xml:"Response"`
		Errors    []errBody `xml:"Errors>Error"`
		RequestID string    `xml:"RequestID"`
	}{Errors: []errBody{{e.Code, e.Message}}, RequestID: NewRequestID()})
}

// WriteS3Error writes a REST-XML error as S3 sends it.
func WriteS3Error(w http.ResponseWriter, e *Error) {
	writeXML(w, e.Status, struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		RequestID string `xml:"RequestId"`
	}{Code: e.Code, Message: e.Message, RequestID: NewRequestID()})
}

func writeXML(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		http.Error(w, "encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-RequestId", NewRequestID())
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// innerXML is the encoding of v's fields without an element around them.
func innerXML(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := xml.NewEncoder(&buf).EncodeElement(v, xml.StartElement{Name: xml.Name{Local: "x"}}); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if bytes.HasSuffix(b, []byte("<x></x>")) || bytes.Equal(b, []byte("<x/>")) {
		return nil, nil
	}
	return b[len("<x>") : len(b)-len("</x>")], nil
}
