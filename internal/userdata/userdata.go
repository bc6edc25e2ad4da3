package userdata

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"text/template"
)

// MaxSize is EC2's limit on a launch template's user data before base64
// encoding.
const MaxSize = 16 * 1024

var (
	//go:embed install-xray.sh.tmpl
	xrayTemplate string
	//go:embed install-cloudwatch.sh.tmpl
	cloudwatchTemplate string
)

// scripts are the install scripts by agent, parsed on first use, not at
// init: every batchxray command links this package, and most never build
// user data.
var scripts = sync.OnceValue(func() map[string]*template.Template {
	return map[string]*template.Template{
		AgentXRayDaemon: template.Must(template.New("install-xray.sh").Option("missingkey=error").Parse(xrayTemplate)),
		AgentCloudWatch: template.Must(template.New("install-cloudwatch.sh").Option("missingkey=error").Parse(cloudwatchTemplate)),
	}
})

// paramsPrefix starts the script's comment line that records the Params, so
// that Parse can say what an existing launch template was built with.
const paramsPrefix = "# batchxray-params: "

// Option changes how Build writes the document.
type Option func(*options)

type options struct {
	boundary string
}

// WithBoundary sets the MIME boundary instead of the one Build derives from the
// script. Build refuses a boundary that is not RFC 2046's 1–70 characters of
// letters, digits and '()+_,-./:=? or that occurs in the script.
func WithBoundary(b string) Option {
	return func(o *options) { o.boundary = b }
}

// boundaryRE is RFC 2046's bcharsnospace without the space, which a quoted
// boundary may hold but is a needless risk.
var boundaryRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9A-Za-z'()+_,\-./:=?]{1,70}$`) })

// Build returns the MIME multi-part user data that installs p's agent (the
// X-Ray daemon or the CloudWatch agent). The same Params always give the same bytes.
func Build(p Params, opts ...Option) ([]byte, error) {
	p, err := p.Normalize()
	if err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}

	sh, err := renderScript(p)
	if err != nil {
		return nil, err
	}
	boundary := o.boundary
	if boundary == "" {
		// Derived from the script rather than random, so rebuilding the same
		// Params gives the same document and `up` sees no drift.
		sum := sha256.Sum256(sh)
		boundary = "==BATCHXRAY_" + hex.EncodeToString(sum[:8]) + "=="
	}
	if !boundaryRE().MatchString(boundary) {
		return nil, fmt.Errorf("build user data: MIME boundary %q is not 1-70 letters, digits or '()+_,-./:=?", boundary)
	}
	if bytes.Contains(sh, []byte("--"+boundary)) {
		return nil, fmt.Errorf("build user data: MIME boundary %q occurs in the script", boundary)
	}

	// Batch's launch template rules: MIME-Version and a multipart/mixed
	// Content-Type, a blank line before every boundary and before the
	// closing one. Lines end in LF, as in Batch's own examples.
	var b bytes.Buffer
	b.WriteString("MIME-Version: 1.0\n")
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%q\n", boundary)
	b.WriteString("\n")
	fmt.Fprintf(&b, "--%s\n", boundary)
	b.WriteString("Content-Type: text/x-shellscript; charset=\"us-ascii\"\n")
	b.WriteString("Content-Transfer-Encoding: 7bit\n")
	b.WriteString("\n")
	b.Write(sh)
	b.WriteString("\n")
	fmt.Fprintf(&b, "--%s--\n", boundary)

	if b.Len() > MaxSize {
		return nil, fmt.Errorf("build user data: %d bytes is over EC2's limit of %d", b.Len(), MaxSize)
	}
	return b.Bytes(), nil
}

// renderScript runs the template for normalised p and checks the result is
// 7bit text, as the part's Content-Transfer-Encoding promises.
func renderScript(p Params) ([]byte, error) {
	recorded := p
	if recorded.Agent == AgentXRayDaemon {
		// Left out, so a daemon script reads exactly as it did before
		// Params had an Agent and existing launch templates show no drift;
		// Parse reads a missing agent as the daemon.
		recorded.Agent = ""
	}
	js, err := json.Marshal(recorded)
	if err != nil {
		return nil, fmt.Errorf("render user data script: %w", err)
	}
	data := struct {
		Params
		ParamsJSON string
		UnameArch  string
		RPMURL     string
	}{p, string(js), p.unameArch(), p.rpmURL()}
	var b bytes.Buffer
	if err := scripts()[p.Agent].Execute(&b, data); err != nil {
		return nil, fmt.Errorf("render user data script: %w", err)
	}
	for i, line := range strings.Split(b.String(), "\n") {
		if len(line) > 998 {
			return nil, fmt.Errorf("render user data script: line %d is longer than 7bit MIME allows", i+1)
		}
		for _, c := range []byte(line) {
			if c == 0 || c == '\r' || c > 127 {
				return nil, fmt.Errorf("render user data script: line %d is not 7bit ASCII", i+1)
			}
		}
	}
	return b.Bytes(), nil
}

// Encode returns doc in base64, the form CreateLaunchTemplate's UserData takes.
func Encode(doc []byte) string {
	return base64.StdEncoding.EncodeToString(doc)
}

// Decode reverses Encode, for the UserData that DescribeLaunchTemplateVersions
// returns.
func Decode(s string) ([]byte, error) {
	doc, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decode user data: %w", err)
	}
	return doc, nil
}

// Parse reads a user data document back: it finds the batchxray script among
// the MIME parts and returns the normalised Params it was built with and the
// script itself. To detect drift, compare the bytes of Build(want) with doc:
// that also catches a script from an older batchxray or one edited by hand.
func Parse(doc []byte) (Params, string, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(doc))
	if err != nil {
		return Params{}, "", fmt.Errorf("parse user data: %w", err)
	}
	mediaType, mp, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return Params{}, "", fmt.Errorf("parse user data: content type: %w", err)
	}
	if mediaType != "multipart/mixed" || mp["boundary"] == "" {
		return Params{}, "", fmt.Errorf("parse user data: content type %q is not multipart/mixed with a boundary", mediaType)
	}
	r := multipart.NewReader(msg.Body, mp["boundary"])
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return Params{}, "", errors.New("parse user data: no batchxray script part")
		}
		if err != nil {
			return Params{}, "", fmt.Errorf("parse user data: %w", err)
		}
		pt, _, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil || pt != "text/x-shellscript" {
			continue
		}
		body, err := io.ReadAll(part)
		if err != nil {
			return Params{}, "", fmt.Errorf("parse user data: %w", err)
		}
		sh := string(body)
		p, ok, err := scriptParams(sh)
		if err != nil {
			return Params{}, "", fmt.Errorf("parse user data: %w", err)
		}
		if ok {
			return p, sh, nil
		}
	}
}

// scriptParams finds the params comment line; ok is false for a script that
// has none, which is someone else's.
func scriptParams(sh string) (Params, bool, error) {
	for line := range strings.Lines(sh) {
		js, found := strings.CutPrefix(strings.TrimRight(line, "\n"), paramsPrefix)
		if !found {
			continue
		}
		var p Params
		if err := json.Unmarshal([]byte(js), &p); err != nil {
			return Params{}, false, fmt.Errorf("script parameters: %w", err)
		}
		p, err := p.Normalize()
		if err != nil {
			return Params{}, false, fmt.Errorf("script parameters: %w", err)
		}
		return p, true, nil
	}
	return Params{}, false, nil
}
