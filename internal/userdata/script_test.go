package userdata

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// stubTools are the host commands the script drives. Each stub records its
// argv, one call a line, in $STUB_LOG, and reads its scripted behaviour from
// the environment.
var stubTools = map[string]string{
	"uname": `printf '%s\n' "${STUB_UNAME:-x86_64}"`,
	"curl": `out=
while (($#)); do
  if [[ "$1" == --output ]]; then out="$2"; shift; fi
  shift
done
if [[ -n "${STUB_CURL_FAIL:-}" ]]; then
  echo "curl: (22) The requested URL returned error: 403" >&2
  exit 22
fi
printf 'rpm' >"$out"`,
	// The package managers fail unless the RPM was downloaded first or the
	// package is the CloudWatch agent, from the distribution's repository.
	"dnf": `[[ -z "${STUB_PM_FAIL:-}" ]] || exit 1
[[ -f "${!#}" || "${!#}" == amazon-cloudwatch-agent ]]`,
	"yum": `[[ -z "${STUB_PM_FAIL:-}" ]] || exit 1
[[ -f "${!#}" || "${!#}" == amazon-cloudwatch-agent ]]`,
	// The agent's control script fails unless its config file exists.
	"amazon-cloudwatch-agent-ctl": `last="${!#}"
[[ -f "${last#file:}" ]]`,
	"systemctl": `if [[ "$1" == is-active ]]; then exit "${STUB_ACTIVE_RC:-0}"; fi`,
	"logger":    `echo "batchxray-userdata: ${!#}" >&2`,
}

// realTools are the ordinary commands the script also needs; the test links
// them into the stub directory, which is the script's whole PATH, so nothing
// on the test machine (a real dnf, say) leaks in.
var realTools = []string{"mktemp", "rm", "mkdir", "cat"}

type runResult struct {
	calls  [][]string // argv of each stubbed call, the work dir replaced by $WORK
	output string     // stdout and stderr
	cfg    string     // the config file, "" if not written
}

// runScript runs the script built from p with bash, with the stubs named in
// tools on PATH and env added to its environment. The script must exit 0.
func runScript(t *testing.T, p Params, tools []string, env ...string) runResult {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	np, err := p.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	sh, err := renderScript(np)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	tmp := filepath.Join(dir, "tmp")
	for _, d := range []string{bin, tmp} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range tools {
		body, ok := stubTools[name]
		if !ok {
			t.Fatalf("no stub for %s", name)
		}
		stub := fmt.Sprintf("#!%s\nprintf '%%s\\t' %s \"$@\" >>\"$STUB_LOG\"; printf '\\n' >>\"$STUB_LOG\"\n%s\n", bash, name, body)
		if err := os.WriteFile(filepath.Join(bin, name), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range realTools {
		path, err := exec.LookPath(name)
		if err != nil {
			t.Skipf("%s is not installed", name)
		}
		if err := os.Symlink(path, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "user-data.sh")
	if err := os.WriteFile(script, sh, 0o755); err != nil {
		t.Fatal(err)
	}
	stubLog := filepath.Join(dir, "calls")
	cfg := filepath.Join(dir, "etc", "amazon", "xray", "cfg.yaml")
	cwCfg := filepath.Join(dir, "opt", "aws", "amazon-cloudwatch-agent", "etc", "batchxray.json")

	cmd := exec.Command(bash, script)
	cmd.Env = append([]string{
		"PATH=" + bin,
		"TMPDIR=" + tmp,
		"STUB_LOG=" + stubLog,
		"BATCHXRAY_XRAY_CFG=" + cfg,
		"BATCHXRAY_CWAGENT_CFG=" + cwCfg,
		"BATCHXRAY_CWAGENT_CTL=" + filepath.Join(bin, "amazon-cloudwatch-agent-ctl"),
	}, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("script: %v, want exit 0 whatever happens\n%s", err, out)
	}

	// The download directory is removed whatever happened.
	if left, err := os.ReadDir(tmp); err != nil || len(left) != 0 {
		t.Errorf("temporary directory holds %v (%v), want it emptied", left, err)
	}

	var res runResult
	res.output = string(out)
	logged, err := os.ReadFile(stubLog)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	work := regexp.MustCompile(regexp.QuoteMeta(tmp) + `/tmp\.[A-Za-z0-9]+`)
	for line := range strings.Lines(string(logged)) {
		line = work.ReplaceAllString(strings.TrimSuffix(line, "\t\n"), "$$WORK")
		res.calls = append(res.calls, strings.Split(line, "\t"))
	}
	for _, path := range []string{cfg, cwCfg} {
		if b, err := os.ReadFile(path); err == nil {
			res.cfg += string(b)
		} else if !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	res.output = strings.ReplaceAll(res.output, cwCfg, "$CWAGENT_CFG")
	for _, c := range res.calls {
		for i := range c {
			c[i] = strings.ReplaceAll(c[i], cwCfg, "$CWAGENT_CFG")
		}
	}
	return res
}

func TestScriptRun(t *testing.T) {
	all := []string{"uname", "curl", "dnf", "yum", "systemctl", "logger"}
	curl := func(url string) []string {
		return []string{"curl", "--fail", "--silent", "--show-error", "--location",
			"--connect-timeout", "10", "--max-time", "60",
			"--retry", "4", "--retry-delay", "3", "--retry-connrefused",
			"--output", "$WORK/xray-daemon.rpm", url}
	}
	const (
		x86URL   = "https://s3.us-east-1.amazonaws.com/aws-xray-assets.us-east-1/xray-daemon/aws-xray-daemon-3.x.rpm"
		armCNURL = "https://s3.cn-north-1.amazonaws.com.cn/aws-xray-assets.cn-north-1/xray-daemon/aws-xray-daemon-arm64-3.3.13.rpm"
	)
	settings := &DaemonSettings{UDPAddress: "0.0.0.0:2000", LogLevel: "debug", BufferMB: 32}

	tests := []struct {
		name      string
		p         Params
		tools     []string
		env       []string
		wantCalls [][]string // logger calls left out
		wantCfg   string
		wantLog   []string // lines the console log must hold
	}{
		{
			name:  "x86_64 prefers dnf and keeps the default config",
			p:     Params{Region: "us-east-1", Arch: "x86_64"},
			tools: all,
			wantCalls: [][]string{
				{"uname", "-m"},
				curl(x86URL),
				{"dnf", "install", "-y", "$WORK/xray-daemon.rpm"},
				{"systemctl", "enable", "--now", "xray"},
				{"systemctl", "is-active", "--quiet", "xray"},
			},
			wantLog: []string{"batchxray-userdata: downloading " + x86URL, "batchxray-userdata: the X-Ray daemon is running"},
		},
		{
			name:  "arm64 in China with yum only writes the config and restarts",
			p:     Params{Region: "cn-north-1", Arch: "arm64", Version: "3.3.13", Daemon: settings},
			tools: []string{"uname", "curl", "yum", "systemctl", "logger"},
			env:   []string{"STUB_UNAME=aarch64"},
			wantCalls: [][]string{
				{"uname", "-m"},
				curl(armCNURL),
				{"yum", "install", "-y", "$WORK/xray-daemon.rpm"},
				{"systemctl", "enable", "--now", "xray"},
				{"systemctl", "restart", "xray"},
				{"systemctl", "is-active", "--quiet", "xray"},
			},
			wantCfg: `# Written by batchxray's user data.
Version: 2
Region: "cn-north-1"
TotalBufferSizeMB: 32
Socket:
  UDPAddress: "0.0.0.0:2000"
  TCPAddress: "127.0.0.1:2000"
Logging:
  LogLevel: "debug"
`,
			wantLog: []string{"batchxray-userdata: the X-Ray daemon is running"},
		},
		{
			name:  "a failed download is logged and the host carries on",
			p:     Params{Region: "us-east-1", Arch: "x86_64", Daemon: settings},
			tools: all,
			env:   []string{"STUB_CURL_FAIL=1"},
			wantCalls: [][]string{
				{"uname", "-m"},
				curl(x86URL),
			},
			wantLog: []string{
				"curl: (22) The requested URL returned error: 403",
				"batchxray-userdata: download failed: " + x86URL,
				"batchxray-userdata: the X-Ray daemon is not installed: jobs on this host run untraced",
			},
		},
		{
			name:      "an architecture mismatch is logged and nothing is downloaded",
			p:         Params{Region: "us-east-1", Arch: "x86_64"},
			tools:     all,
			env:       []string{"STUB_UNAME=aarch64"},
			wantCalls: [][]string{{"uname", "-m"}},
			wantLog: []string{
				"batchxray-userdata: architecture mismatch: host is aarch64, user data was built for x86_64; not installing the daemon",
				"batchxray-userdata: the X-Ray daemon is not installed: jobs on this host run untraced",
			},
		},
		{
			name:      "no package manager",
			p:         Params{Region: "us-east-1", Arch: "x86_64"},
			tools:     []string{"uname", "curl", "systemctl", "logger"},
			wantCalls: [][]string{{"uname", "-m"}},
			wantLog:   []string{"batchxray-userdata: neither dnf nor yum is installed"},
		},
		{
			name:  "an inactive service is reported",
			p:     Params{Region: "us-east-1", Arch: "x86_64"},
			tools: all,
			env:   []string{"STUB_ACTIVE_RC=3"},
			wantCalls: [][]string{
				{"uname", "-m"},
				curl(x86URL),
				{"dnf", "install", "-y", "$WORK/xray-daemon.rpm"},
				{"systemctl", "enable", "--now", "xray"},
				{"systemctl", "is-active", "--quiet", "xray"},
			},
			wantLog: []string{
				"batchxray-userdata: the xray service is not active after the install",
				"batchxray-userdata: the X-Ray daemon is not installed: jobs on this host run untraced",
			},
		},
		{
			name:  "without logger the prefix still reaches the console",
			p:     Params{Region: "us-east-1", Arch: "x86_64"},
			tools: []string{"uname", "curl", "dnf", "systemctl"},
			wantCalls: [][]string{
				{"uname", "-m"},
				curl(x86URL),
				{"dnf", "install", "-y", "$WORK/xray-daemon.rpm"},
				{"systemctl", "enable", "--now", "xray"},
				{"systemctl", "is-active", "--quiet", "xray"},
			},
			wantLog: []string{"batchxray-userdata: the X-Ray daemon is running"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runScript(t, tc.p, tc.tools, tc.env...)

			var calls [][]string
			var logged int
			for _, c := range res.calls {
				if c[0] == "logger" {
					logged++
					if diff := cmp.Diff([]string{"-s", "-t", "batchxray-userdata", "--"}, c[1:len(c)-1]); diff != "" {
						t.Errorf("logger flags (-want +got):\n%s", diff)
					}
					continue
				}
				calls = append(calls, c)
			}
			if diff := cmp.Diff(tc.wantCalls, calls); diff != "" {
				t.Errorf("commands run (-want +got):\n%s\noutput:\n%s", diff, res.output)
			}
			if hasLogger := strings.Contains(strings.Join(tc.tools, " "), "logger"); hasLogger != (logged > 0) {
				t.Errorf("logger called %d times with the stub installed = %v", logged, hasLogger)
			}
			if res.cfg != tc.wantCfg {
				t.Errorf("config file (-want +got):\n%s", cmp.Diff(tc.wantCfg, res.cfg))
			}
			lines := strings.Split(res.output, "\n")
			for _, want := range tc.wantLog {
				if !containsLine(lines, want) {
					t.Errorf("output lacks the line %q:\n%s", want, res.output)
				}
			}
		})
	}
}

func TestCloudWatchScriptRun(t *testing.T) {
	all := []string{"uname", "dnf", "yum", "systemctl", "logger", "amazon-cloudwatch-agent-ctl"}
	ctl := []string{"amazon-cloudwatch-agent-ctl", "-a", "fetch-config", "-m", "ec2", "-s", "-c", "file:$CWAGENT_CFG"}
	const cfg = `{
  "agent": {
    "region": "eu-west-1"
  },
  "traces": {
    "traces_collected": {
      "xray": {
        "bind_address": "127.0.0.1:2000",
        "tcp_proxy": {
          "bind_address": "127.0.0.1:2000"
        }
      },
      "otlp": {
        "grpc_endpoint": "127.0.0.1:4317",
        "http_endpoint": "127.0.0.1:4318"
      }
    }
  }
}
`
	p := Params{Agent: AgentCloudWatch, Region: "eu-west-1", Arch: "arm64"}
	arm := "STUB_UNAME=aarch64"
	tests := []struct {
		name      string
		tools     []string
		env       []string
		wantCalls [][]string // logger calls left out
		wantCfg   string
		wantLog   []string
	}{
		{
			name:  "installs from the repository, writes a loopback config and starts the agent",
			tools: all,
			env:   []string{arm},
			wantCalls: [][]string{
				{"uname", "-m"},
				{"dnf", "install", "-y", "amazon-cloudwatch-agent"},
				ctl,
				{"systemctl", "is-active", "--quiet", "amazon-cloudwatch-agent"},
			},
			wantCfg: cfg,
			wantLog: []string{
				"batchxray-userdata: installing the CloudWatch agent for arm64 in eu-west-1",
				"batchxray-userdata: writing $CWAGENT_CFG",
				"batchxray-userdata: the CloudWatch agent is running (X-Ray on udp 127.0.0.1:2000, OTLP on 127.0.0.1:4318)",
			},
		},
		{
			name:      "an architecture mismatch installs nothing",
			tools:     all,
			wantCalls: [][]string{{"uname", "-m"}},
			wantLog: []string{
				"batchxray-userdata: architecture mismatch: host is x86_64, user data was built for aarch64; not installing the agent",
				"batchxray-userdata: the CloudWatch agent is not installed: jobs on this host run untraced",
			},
		},
		{
			name:  "a failed install is logged and the host carries on",
			tools: []string{"uname", "yum", "systemctl", "logger", "amazon-cloudwatch-agent-ctl"},
			env:   []string{arm, "STUB_PM_FAIL=1"},
			wantCalls: [][]string{
				{"uname", "-m"},
				{"yum", "install", "-y", "amazon-cloudwatch-agent"},
			},
			wantLog: []string{
				"batchxray-userdata: yum install amazon-cloudwatch-agent failed with exit code 1",
				"batchxray-userdata: the CloudWatch agent is not installed: jobs on this host run untraced",
			},
		},
		{
			name:  "an agent that does not start is reported",
			tools: all,
			env:   []string{arm, "STUB_ACTIVE_RC=3"},
			wantCalls: [][]string{
				{"uname", "-m"},
				{"dnf", "install", "-y", "amazon-cloudwatch-agent"},
				ctl,
				{"systemctl", "is-active", "--quiet", "amazon-cloudwatch-agent"},
			},
			wantCfg: cfg,
			wantLog: []string{
				"batchxray-userdata: the amazon-cloudwatch-agent service is not active after the install",
				"batchxray-userdata: the CloudWatch agent is not installed: jobs on this host run untraced",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runScript(t, p, tc.tools, tc.env...)
			var calls [][]string
			for _, c := range res.calls {
				if c[0] != "logger" {
					calls = append(calls, c)
				}
			}
			if diff := cmp.Diff(tc.wantCalls, calls); diff != "" {
				t.Errorf("commands run (-want +got):\n%s\noutput:\n%s", diff, res.output)
			}
			if res.cfg != tc.wantCfg {
				t.Errorf("config file (-want +got):\n%s", cmp.Diff(tc.wantCfg, res.cfg))
			}
			lines := strings.Split(res.output, "\n")
			for _, want := range tc.wantLog {
				if !containsLine(lines, want) {
					t.Errorf("output lacks the line %q:\n%s", want, res.output)
				}
			}
		})
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}
