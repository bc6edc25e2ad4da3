package batch_test

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsbatch "github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/batchxray/batchxray/internal/localaws"
)

// entry is one tar entry of a test layer: a file (mode 0755 unless mode is
// set), a symlink (link), or a whiteout (a name starting .wh.).
type entry struct {
	name, link string
	mode       int64
}

func layer(t *testing.T, entries ...entry) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o755, Typeflag: tar.TypeReg}
		if e.mode != 0 {
			h.Mode = e.mode
		}
		if e.link != "" {
			h.Typeflag, h.Linkname = tar.TypeSymlink, e.link
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// pushImage pushes an image of layers and config to the stand-in's own
// registry, as `up` does, and returns its reference.
func (f *fixture) pushImage(repo string, cfg v1.Config, layers ...v1.Layer) string {
	f.t.Helper()
	t := f.t
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	if img, err = mutate.Config(img, cfg); err != nil {
		t.Fatal(err)
	}
	c := ecr.NewFromConfig(f.cfg)
	out, err := c.CreateRepository(f.ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	tok, err := c.GetAuthorizationToken(f.ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("GetAuthorizationToken: %v", err)
	}
	dec, _ := base64.StdEncoding.DecodeString(aws.ToString(tok.AuthorizationData[0].AuthorizationToken))
	user, pass, _ := strings.Cut(string(dec), ":")
	ref := aws.ToString(out.Repository.RepositoryUri) + ":v1"
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, remote.WithAuth(&authn.Basic{Username: user, Password: pass})); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref
}

// withShell is an image holding /bin/sh (through a symlink, as busybox
// images hold it) on its PATH.
func withShell(t *testing.T) []v1.Layer {
	return []v1.Layer{layer(t, entry{name: "bin/busybox"}, entry{name: "bin/sh", link: "busybox"})}
}

func TestContainerArgvByDockerRules(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 4)
	img := f.pushImage("shell", v1.Config{Env: []string{"PATH=/bin", "FROM_IMAGE=image"}, Cmd: []string{"sh", "-c", "echo image command $FROM_IMAGE"}}, withShell(t)...)
	ep := f.pushImage("entrypoint", v1.Config{Env: []string{"PATH=/bin"}, Entrypoint: []string{"sh", "-c"}, Cmd: []string{"echo image cmd"}}, withShell(t)...)
	for _, tt := range []struct {
		name     string
		image    string
		def      []string
		override []string
		want     string
	}{
		{"the image's command", img, nil, nil, "image command image"},
		{"the job definition's command", img, []string{"sh", "-c", "echo definition"}, nil, "definition"},
		{"the override", img, []string{"sh", "-c", "echo definition"}, []string{"sh", "-c", "echo override"}, "override"},
		{"the entrypoint and the image's command", ep, nil, nil, "image cmd"},
		{"the entrypoint and the job definition's command", ep, []string{"echo from the definition"}, nil, "from the definition"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			def := f.define("argv", tt.def, func(in *awsbatch.RegisterJobDefinitionInput) {
				in.ContainerProperties.Image = aws.String(tt.image)
			})
			in := &awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)}
			if tt.override != nil {
				in.ContainerOverrides = &types.ContainerOverrides{Command: tt.override}
			}
			j, _ := f.waitFor(f.submit(in), types.JobStatusSucceeded)
			// The image was checked: no note, the command's output only.
			got := f.rawLogLines("/aws/batch/job", aws.ToString(j.Container.LogStreamName))
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("output %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMissingExecutableFailsAsOnAWS(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 4)
	// The upper layer whites out the shell the lower one holds.
	gone := f.pushImage("whiteout", v1.Config{Env: []string{"PATH=/bin"}}, append(withShell(t), layer(t, entry{name: "bin/.wh.sh"}))...)
	noShell := f.pushImage("noshell", v1.Config{}, layer(t, entry{name: "usr/local/bin/batchxray"}))
	notExec := f.pushImage("notexec", v1.Config{}, layer(t, entry{name: "bin/sh", mode: 0o644}))
	for _, tt := range []struct {
		name, image string
		command     []string
		want        string
	}{
		{"not on PATH", noShell, []string{"sh", "-c", "exit 0"}, `exec: "sh": executable file not found in $PATH`},
		{"whited out", gone, []string{"sh", "-c", "exit 0"}, `exec: "sh": executable file not found in $PATH`},
		{"not executable", notExec, []string{"/bin/sh"}, `exec: "/bin/sh": permission denied`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			def := f.define("missing", tt.command, func(in *awsbatch.RegisterJobDefinitionInput) {
				in.ContainerProperties.Image = aws.String(tt.image)
			})
			j, _ := f.waitFor(f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)}), types.JobStatusFailed)
			reason := aws.ToString(j.Container.Reason)
			if !strings.HasPrefix(reason, "CannotStartContainerError: ") || !strings.Contains(reason, tt.want) {
				t.Errorf("container reason %q, want CannotStartContainerError naming %s", reason, tt.want)
			}
			if j.Container.ExitCode != nil || len(j.Attempts) != 1 || j.Attempts[0].Container.ExitCode != nil {
				t.Errorf("exit code %v, attempts %d: want no exit code and one attempt", j.Container.ExitCode, len(j.Attempts))
			}
			if got := aws.ToString(j.StatusReason); got != "Task failed to start" {
				t.Errorf("statusReason %q", got)
			}
		})
	}
}

func TestImageOfAnotherRegistryIsNotChecked(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 4)
	def := f.define("foreign", []string{"echo", "ran"}, nil)
	j, _ := f.waitFor(f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)}), types.JobStatusSucceeded)
	got := f.rawLogLines("/aws/batch/job", aws.ToString(j.Container.LogStreamName))
	want := "batchxray local: the image public.ecr.aws/docker/library/busybox:latest is not in this stand-in's registry, so it was not checked: the command runs on this machine as it is"
	if len(got) != 2 || got[0] != want || got[1] != "ran" {
		t.Errorf("log %q, want the note %q first, then the output", got, want)
	}
}

func (f *fixture) rawLogLines(group, stream string) []string {
	f.t.Helper()
	out, err := f.logs.GetLogEvents(f.ctx, &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true),
	})
	if err != nil {
		f.t.Fatalf("GetLogEvents: %v", err)
	}
	var lines []string
	for _, e := range out.Events {
		lines = append(lines, aws.ToString(e.Message))
	}
	return lines
}

func TestImageMissingFromItsRegistryCannotBePulled(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 4)
	ref := strings.TrimPrefix(f.srv.Endpoint(), "http://") + "/nosuch:v1"
	def := f.define("nopull", []string{"true"}, func(in *awsbatch.RegisterJobDefinitionInput) { in.ContainerProperties.Image = aws.String(ref) })
	j, _ := f.waitFor(f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)}), types.JobStatusFailed)
	if reason := aws.ToString(j.Container.Reason); !strings.HasPrefix(reason, "CannotPullContainerError: ") || !strings.Contains(reason, ref) {
		t.Errorf("container reason %q, want CannotPullContainerError naming %s", reason, ref)
	}
	if j.Container.ExitCode != nil {
		t.Errorf("exit code %d, want none", *j.Container.ExitCode)
	}
}

// TestWrappedCommandIsLookedUpInTheImage runs `batchxray job -- CMD` in
// checked images. The stand-in's batchxray here is a script that execs
// CMD by its PATH as batchxray job does: what it finds is what the
// container's PATH lets it find, which must be the image's executables
// only, each run as the host's program.
func TestWrappedCommandIsLookedUpInTheImage(t *testing.T) {
	script := t.TempDir() + "/batchxray"
	writeScript(t, script, "#!/bin/sh\nwhile [ \"$1\" != -- ]; do shift; done; shift\nexec \"$@\"\n")
	f := start(t, localaws.Options{Executable: script})
	f.stack("q", 4)
	bx := entry{name: "usr/local/bin/batchxray"}
	noShell := f.pushImage("noshell", v1.Config{}, layer(t, bx))
	shell := f.pushImage("shell", v1.Config{Env: []string{"PATH=/usr/local/bin:/bin"}}, append(withShell(t), layer(t, bx))...)
	gone := f.pushImage("whiteout", v1.Config{Env: []string{"PATH=/usr/local/bin:/bin"}}, append(withShell(t), layer(t, bx, entry{name: "bin/.wh.sh"}))...)
	for _, tt := range []struct {
		name, image string
		command     []string
		want        int32
	}{
		{"no shell in the image", noShell, []string{"sh", "-c", "exit 0"}, 127},
		{"no shell at its path", noShell, []string{"/bin/sh", "-c", "exit 0"}, 127},
		{"the shell whited out", gone, []string{"sh", "-c", "exit 0"}, 127},
		{"a shell on the image's PATH", shell, []string{"sh", "-c", "exit 0"}, 0},
		{"a shell at its path", shell, []string{"/bin/sh", "-c", "exit 0"}, 0},
		{"the shell's own exit code", shell, []string{"sh", "-c", "exit 3"}, 3},
		{"the shell finds only the image's commands", shell, []string{"sh", "-c", "ls /"}, 127},
	} {
		t.Run(tt.name, func(t *testing.T) {
			def := f.define("wrapped", append([]string{"batchxray", "job", "--"}, tt.command...), func(in *awsbatch.RegisterJobDefinitionInput) {
				in.ContainerProperties.Image = aws.String(tt.image)
			})
			want := types.JobStatusSucceeded
			if tt.want != 0 {
				want = types.JobStatusFailed
			}
			j, _ := f.waitFor(f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)}), want)
			if got := aws.ToInt32(j.Container.ExitCode); j.Container.ExitCode == nil || got != tt.want {
				t.Errorf("exit code %v, want %d (reason %q, log %q)", j.Container.ExitCode, tt.want, aws.ToString(j.Container.Reason),
					f.rawLogLines("/aws/batch/job", aws.ToString(j.Container.LogStreamName)))
			}
		})
	}
}
