package userdata

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/golden"
)

// goldenCases are the documents kept byte-exact under testdata/.
var goldenCases = []struct {
	name string
	p    Params
}{
	{"x86_64-us-east-1", Params{Region: "us-east-1", Arch: "x86_64"}},
	{"arm64-eu-west-1", Params{Region: "eu-west-1", Arch: "arm64"}},
	{"x86_64-cn-north-1", Params{Region: "cn-north-1", Arch: "amd64"}},
	{"pinned-with-settings-us-gov-west-1", Params{
		Region: "us-gov-west-1", Partition: "aws-us-gov", Arch: "aarch64", Version: "3.3.13",
		Daemon: &DaemonSettings{UDPAddress: "0.0.0.0:2000", TCPAddress: "127.0.0.1:2001", LogLevel: "info", BufferMB: 64},
	}},
	{"cloudwatch-x86_64-us-east-1", Params{Agent: AgentCloudWatch, Region: "us-east-1", Arch: "x86_64"}},
	{"cloudwatch-arm64-cn-north-1", Params{Agent: AgentCloudWatch, Region: "cn-north-1", Arch: "aarch64"}},
}

func TestBuildGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Build(tc.p)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			golden.Assert(t, tc.name+".golden", got)
		})
	}
}

// TestBuildFollowsBatchRules checks each document against the launch template
// rules of the Batch user guide, with the standard library's MIME reader and
// line by line for the blank lines that reader does not care about.
func TestBuildFollowsBatchRules(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Build(tc.p)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(doc))
			if err != nil {
				t.Fatalf("read MIME headers: %v", err)
			}
			if got := msg.Header.Get("MIME-Version"); got != "1.0" {
				t.Errorf("MIME-Version = %q, want 1.0", got)
			}
			mt, mp, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
			if err != nil || mt != "multipart/mixed" || mp["boundary"] == "" {
				t.Fatalf("Content-Type = %q (%v), want multipart/mixed with a boundary", msg.Header.Get("Content-Type"), err)
			}
			boundary := mp["boundary"]

			r := multipart.NewReader(msg.Body, boundary)
			var parts int
			for {
				part, err := r.NextPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("part %d: %v", parts+1, err)
				}
				parts++
				pt, pp, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
				if err != nil || pt != "text/x-shellscript" || pp["charset"] != "us-ascii" {
					t.Errorf("part Content-Type = %q (%v), want text/x-shellscript; charset=us-ascii", part.Header.Get("Content-Type"), err)
				}
				if got := part.Header.Get("Content-Transfer-Encoding"); got != "7bit" {
					t.Errorf("part Content-Transfer-Encoding = %q, want 7bit", got)
				}
				body, err := io.ReadAll(part)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(body, []byte("#!/bin/bash\n")) {
					t.Errorf("script starts with %q, want #!/bin/bash", firstLine(body))
				}
			}
			if parts != 1 {
				t.Errorf("got %d parts, want 1", parts)
			}

			checkBlankLines(t, doc, boundary)
		})
	}
}

// checkBlankLines enforces Batch's rule that the line before every boundary,
// the closing one included, is blank, and that the closing boundary ends the
// document.
func checkBlankLines(t *testing.T, doc []byte, boundary string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(doc), "\n"), "\n")
	var opening, closing int
	for i, line := range lines {
		if !strings.HasPrefix(line, "--"+boundary) {
			continue
		}
		switch line {
		case "--" + boundary:
			opening++
		case "--" + boundary + "--":
			closing++
			if i != len(lines)-1 {
				t.Errorf("line %d: closing boundary is followed by %d more lines", i+1, len(lines)-1-i)
			}
		default:
			t.Errorf("line %d: %q is neither an opening nor the closing boundary", i+1, line)
		}
		if i == 0 || lines[i-1] != "" {
			t.Errorf("line %d: boundary %q is not preceded by a blank line", i+1, line)
		}
	}
	if opening != 1 || closing != 1 {
		t.Errorf("got %d opening and %d closing boundaries, want 1 and 1", opening, closing)
	}
	if !strings.HasSuffix(string(doc), "\n") {
		t.Error("document does not end with a newline")
	}
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return string(line)
}

func TestParseRoundTrip(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Build(tc.p)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			decoded, err := Decode(Encode(doc))
			if err != nil {
				t.Fatalf("Decode(Encode(doc)): %v", err)
			}
			if !bytes.Equal(decoded, doc) {
				t.Fatal("Decode(Encode(doc)) differs from doc")
			}
			got, sh, err := Parse(decoded)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want, err := tc.p.Normalize()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Parse(Build(p)) params (-want +got):\n%s", diff)
			}
			wantScript, err := renderScript(want)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(wantScript), sh); diff != "" {
				t.Errorf("Parse(Build(p)) script (-want +got):\n%s", diff)
			}
			// Parse's Params must build the very same document, or `up`
			// would see drift where there is none.
			again, err := Build(got)
			if err != nil {
				t.Fatalf("Build(Parse(doc)): %v", err)
			}
			if !bytes.Equal(again, doc) {
				t.Error("Build(Parse(doc)) differs from doc")
			}
		})
	}
}

func TestParseForeignDocuments(t *testing.T) {
	foreign := "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"==B==\"\n\n" +
		"--==B==\nContent-Type: text/x-shellscript; charset=\"us-ascii\"\n\n#!/bin/bash\necho hi\n\n--==B==--\n"
	badParams := strings.Replace(foreign, "echo hi", paramsPrefix+`{"region":"US-EAST-1","arch":"x86_64"}`, 1)
	tests := []struct {
		name, doc, wantErr string
	}{
		{"not MIME", "#!/bin/bash\necho hi\n", "parse user data"},
		{"not multipart", "MIME-Version: 1.0\nContent-Type: text/x-shellscript\n\n#!/bin/bash\n", "is not multipart/mixed"},
		{"someone else's script", foreign, "no batchxray script part"},
		{"tampered parameters", badParams, `region "US-EAST-1" is not a region name`},
		{"unparsable parameters", strings.Replace(foreign, "echo hi", paramsPrefix+"{", 1), "script parameters"},
		{"truncated", foreign[:len(foreign)-12], "parse user data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Parse: error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestDecodeRejectsBadBase64(t *testing.T) {
	if _, err := Decode("not base64!"); err == nil {
		t.Error("Decode(\"not base64!\") succeeded")
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	p := Params{Region: "us-east-1", Arch: "x86_64"}
	a, err := Build(p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(Params{Region: "us-east-1", Partition: "aws", Arch: "amd64", Version: "3.x"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("equivalent Params built different documents")
	}
	c, err := Build(Params{Region: "us-east-2", Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	if firstLines(a, 2) == firstLines(c, 2) {
		t.Error("different scripts got the same MIME boundary")
	}
}

func firstLines(b []byte, n int) string {
	s := bufio.NewScanner(bytes.NewReader(b))
	var out []string
	for len(out) < n && s.Scan() {
		out = append(out, s.Text())
	}
	return strings.Join(out, "\n")
}

func TestWithBoundary(t *testing.T) {
	p := Params{Region: "us-east-1", Arch: "x86_64"}
	tests := []struct {
		name, boundary, wantErr string
	}{
		{"fixed", "==MYBOUNDARY==", ""},
		{"empty falls back to derived", "", ""},
		{"space", "my boundary", "is not 1-70"},
		{"too long", strings.Repeat("a", 71), "is not 1-70"},
		{"quote", `a"b`, "is not 1-70"},
		{"occurs in the script", "fail", "occurs in the script"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Build(p, WithBoundary(tc.boundary))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Build: error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(doc))
			if err != nil {
				t.Fatal(err)
			}
			_, mp, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
			if err != nil {
				t.Fatal(err)
			}
			if tc.boundary != "" && mp["boundary"] != tc.boundary {
				t.Errorf("boundary = %q, want %q", mp["boundary"], tc.boundary)
			}
			checkBlankLines(t, doc, mp["boundary"])
			if _, _, err := Parse(doc); err != nil {
				t.Errorf("Parse: %v", err)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   Params
		want Params
	}{
		{"defaults", Params{Region: "us-east-1", Arch: "x86_64"},
			Params{Agent: AgentXRayDaemon, Region: "us-east-1", Partition: "aws", Arch: "x86_64", Version: "3.x"}},
		{"amd64 synonym", Params{Region: "eu-central-2", Arch: "amd64"},
			Params{Agent: AgentXRayDaemon, Region: "eu-central-2", Partition: "aws", Arch: "x86_64", Version: "3.x"}},
		{"aarch64 synonym", Params{Region: "ap-southeast-4", Arch: "aarch64", Version: "3.3.13"},
			Params{Agent: AgentXRayDaemon, Region: "ap-southeast-4", Partition: "aws", Arch: "arm64", Version: "3.3.13"}},
		{"china", Params{Region: "cn-northwest-1", Arch: "arm64"},
			Params{Agent: AgentXRayDaemon, Region: "cn-northwest-1", Partition: "aws-cn", Arch: "arm64", Version: "3.x"}},
		{"govcloud", Params{Region: "us-gov-west-1", Partition: "aws-us-gov", Arch: "x86_64"},
			Params{Agent: AgentXRayDaemon, Region: "us-gov-west-1", Partition: "aws-us-gov", Arch: "x86_64", Version: "3.x"}},
		{"empty daemon settings take the daemon's defaults", Params{Region: "us-east-1", Arch: "x86_64", Daemon: &DaemonSettings{}},
			Params{Agent: AgentXRayDaemon, Region: "us-east-1", Partition: "aws", Arch: "x86_64", Version: "3.x",
				Daemon: &DaemonSettings{UDPAddress: "127.0.0.1:2000", TCPAddress: "127.0.0.1:2000", LogLevel: "prod"}}},
		{"daemon settings kept", Params{Region: "us-east-1", Arch: "x86_64", Daemon: &DaemonSettings{UDPAddress: "[::1]:2000", TCPAddress: "localhost:3000", LogLevel: "debug", BufferMB: 3}},
			Params{Agent: AgentXRayDaemon, Region: "us-east-1", Partition: "aws", Arch: "x86_64", Version: "3.x",
				Daemon: &DaemonSettings{UDPAddress: "[::1]:2000", TCPAddress: "localhost:3000", LogLevel: "debug", BufferMB: 3}}},
		{"the daemon by name", Params{Agent: "xray-daemon", Region: "us-east-1", Arch: "x86_64"},
			Params{Agent: AgentXRayDaemon, Region: "us-east-1", Partition: "aws", Arch: "x86_64", Version: "3.x"}},
		{"the CloudWatch agent has no daemon version", Params{Agent: "cloudwatch", Region: "cn-north-1", Arch: "amd64"},
			Params{Agent: AgentCloudWatch, Region: "cn-north-1", Partition: "aws-cn", Arch: "x86_64"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.in.Normalize()
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Normalize (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildRejectsBadInputs(t *testing.T) {
	ok := Params{Region: "us-east-1", Arch: "x86_64"}
	with := func(f func(*Params)) Params {
		p := ok
		f(&p)
		return p
	}
	daemon := func(d DaemonSettings) Params {
		return with(func(p *Params) { p.Daemon = &d })
	}
	tests := []struct {
		name    string
		p       Params
		wantErr string
	}{
		{"empty region", with(func(p *Params) { p.Region = "" }), "region is required"},
		{"region without dashes", with(func(p *Params) { p.Region = "useast1" }), `region "useast1" is not a region name`},
		{"upper-case region", with(func(p *Params) { p.Region = "US-EAST-1" }), `region "US-EAST-1" is not a region name`},
		{"region with a shell metacharacter", with(func(p *Params) { p.Region = "us-east-1;reboot" }), "is not a region name"},
		{"ISO region", with(func(p *Params) { p.Region = "us-iso-east-1" }), "is not a region name"},
		{"unknown partition", with(func(p *Params) { p.Partition = "aws-iso" }), `partition "aws-iso" is not one of`},
		{"partition does not match region", with(func(p *Params) { p.Partition = "aws-cn" }), `partition "aws-cn" does not match region us-east-1, which is in aws`},
		{"gov region in aws", Params{Region: "us-gov-east-1", Partition: "aws", Arch: "x86_64"}, "which is in aws-us-gov"},
		{"empty architecture", with(func(p *Params) { p.Arch = "" }), "architecture is required"},
		{"unknown architecture", with(func(p *Params) { p.Arch = "riscv64" }), `architecture "riscv64" is not x86_64 or arm64`},
		{"upper-case architecture", with(func(p *Params) { p.Arch = "X86_64" }), `architecture "X86_64"`},
		{"version 2", with(func(p *Params) { p.Version = "2.x" }), `daemon version "2.x" is not 3.x`},
		{"partial version", with(func(p *Params) { p.Version = "3.3" }), `daemon version "3.3"`},
		{"version with a v", with(func(p *Params) { p.Version = "v3.3.13" }), `daemon version "v3.3.13"`},
		{"latest", with(func(p *Params) { p.Version = "latest" }), `daemon version "latest"`},
		{"address without port", daemon(DaemonSettings{UDPAddress: "127.0.0.1"}), `daemon UDP address: "127.0.0.1" is not host:port`},
		{"port out of range", daemon(DaemonSettings{TCPAddress: "127.0.0.1:70000"}), `daemon TCP address: "127.0.0.1:70000": port "70000" is not a number from 1 to 65535`},
		{"port zero", daemon(DaemonSettings{UDPAddress: "127.0.0.1:0"}), `port "0"`},
		{"named port", daemon(DaemonSettings{UDPAddress: "127.0.0.1:xray"}), `port "xray"`},
		{"empty host", daemon(DaemonSettings{UDPAddress: ":2000"}), `host "" is not an IP address or host name`},
		{"host with a quote", daemon(DaemonSettings{TCPAddress: `a"b:2000`}), `is not an IP address or host name`},
		{"unknown log level", daemon(DaemonSettings{LogLevel: "verbose"}), `daemon log level "verbose" is not one of dev, debug, info, warn, error, prod`},
		{"buffer too small", daemon(DaemonSettings{BufferMB: 2}), "daemon buffer 2 MB"},
		{"negative buffer", daemon(DaemonSettings{BufferMB: -1}), "daemon buffer -1 MB"},
		{"unknown agent", with(func(p *Params) { p.Agent = "otel-collector" }), `agent "otel-collector" is not xray-daemon or cloudwatch`},
		{"agent in capitals", with(func(p *Params) { p.Agent = "CloudWatch" }), `agent "CloudWatch"`},
		{"daemon version for the CloudWatch agent", with(func(p *Params) { p.Agent, p.Version = AgentCloudWatch, "3.x" }), `daemon version "3.x" is for the X-Ray daemon, not the CloudWatch agent`},
		{"daemon settings for the CloudWatch agent", with(func(p *Params) { p.Agent, p.Daemon = AgentCloudWatch, &DaemonSettings{} }), "daemon settings are for the X-Ray daemon"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Build(tc.p)
			if err == nil {
				t.Fatalf("Build(%+v) succeeded:\n%s", tc.p, doc)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Build(%+v): error %q, want one containing %q", tc.p, err, tc.wantErr)
			}
		})
	}

	// Every problem is reported at once, so a user fixes them in one go.
	_, err := Build(Params{Region: "useast1", Arch: "sparc"})
	if err == nil || !strings.Contains(err.Error(), "useast1") || !strings.Contains(err.Error(), "sparc") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Build with two bad fields: error %q, want both reported on one line", err)
	}
}

func TestRPMURL(t *testing.T) {
	tests := []struct {
		p    Params
		want string
	}{
		{Params{Region: "us-east-1", Arch: "x86_64"},
			"https://s3.us-east-1.amazonaws.com/aws-xray-assets.us-east-1/xray-daemon/aws-xray-daemon-3.x.rpm"},
		{Params{Region: "eu-west-1", Arch: "arm64"},
			"https://s3.eu-west-1.amazonaws.com/aws-xray-assets.eu-west-1/xray-daemon/aws-xray-daemon-arm64-3.x.rpm"},
		{Params{Region: "cn-north-1", Arch: "x86_64", Version: "3.3.13"},
			"https://s3.cn-north-1.amazonaws.com.cn/aws-xray-assets.cn-north-1/xray-daemon/aws-xray-daemon-3.3.13.rpm"},
		{Params{Region: "us-gov-west-1", Arch: "aarch64"},
			"https://s3.us-gov-west-1.amazonaws.com/aws-xray-assets.us-gov-west-1/xray-daemon/aws-xray-daemon-arm64-3.x.rpm"},
	}
	for _, tc := range tests {
		t.Run(tc.p.Region+"/"+tc.p.Arch, func(t *testing.T) {
			p, err := tc.p.Normalize()
			if err != nil {
				t.Fatal(err)
			}
			if got := p.rpmURL(); got != tc.want {
				t.Errorf("rpmURL() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestScriptLint runs bash -n on every golden script, and shellcheck when it
// is installed (.ci/run installs it from Debian's packages).
func TestScriptLint(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	shellcheck, _ := exec.LookPath("shellcheck")
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.p.Normalize()
			if err != nil {
				t.Fatal(err)
			}
			sh, err := renderScript(p)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "user-data.sh")
			if err := os.WriteFile(path, sh, 0o755); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bash, "-n", path).CombinedOutput(); err != nil {
				t.Errorf("bash -n: %v\n%s", err, out)
			}
			if shellcheck == "" {
				t.Skip("shellcheck is not installed")
			}
			if out, err := exec.Command(shellcheck, "--shell=bash", path).CombinedOutput(); err != nil {
				t.Errorf("shellcheck: %v\n%s", err, out)
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	p := goldenCases[len(goldenCases)-1].p
	var size int
	for b.Loop() {
		doc, err := Build(p)
		if err != nil {
			b.Fatal(err)
		}
		size = len(doc)
	}
	b.ReportMetric(float64(size), "bytes/doc")
}
