package image

import (
	"archive/tar"
	"context"
	"debug/elf"
	"errors"
	"io"
	"log"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/batchxray/batchxray/internal/imagefs"
)

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }

func elfMachine(arch string) elf.Machine {
	if arch == "arm64" {
		return elf.EM_AARCH64
	}
	return elf.EM_X86_64
}

func TestBasePublisherKeepsTheBaseAndWrapsItsEntrypoint(t *testing.T) {
	tests := []struct {
		name           string
		bc             baseConfig
		wantEntrypoint []string
	}{
		{"command only", baseConfig{cmd: []string{"python3", "app.py"}}, []string{BinaryPath, "job", "--"}},
		{"entrypoint and command", baseConfig{entrypoint: []string{"/docker-entrypoint.sh"}, cmd: []string{"serve", "--port=80"}}, []string{BinaryPath, "job", "--", "/docker-entrypoint.sh"}},
		{"shell-form entrypoint", baseConfig{entrypoint: []string{"/bin/sh", "-c", "exec run \"$@\""}}, []string{BinaryPath, "job", "--", "/bin/sh", "-c", "exec run \"$@\""}},
		{"neither", baseConfig{}, []string{BinaryPath, "job", "--"}},
	}
	_, host := newTestRegistry(t)
	ctx := context.Background()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			baseRef := host + "/base/app:" + string(rune('a'+i))
			base := testBase(t, "amd64", tt.bc)
			pushImage(t, baseRef, base)
			bin := fakeELF(elf.EM_X86_64)
			p := &BasePublisher{Base: baseRef, Binary: bin, Arch: "amd64"}
			ref, pushed, err := p.Publish(ctx, host+"/stack/jobs", "AWS", "pw", false)
			if err != nil || !pushed {
				t.Fatalf("Publish = %q, %v, %v; want a push", ref, pushed, err)
			}
			img := pull(t, ref)
			got, _ := img.ConfigFile()
			want, _ := base.ConfigFile()
			if got.OS != "linux" || got.Architecture != "amd64" {
				t.Errorf("platform %s/%s, want linux/amd64", got.OS, got.Architecture)
			}
			if diff := cmp.Diff(tt.wantEntrypoint, got.Config.Entrypoint); diff != "" {
				t.Errorf("entrypoint (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want.Config.Cmd, got.Config.Cmd); diff != "" {
				t.Errorf("cmd (-base +got):\n%s", diff)
			}
			if !slices.Equal(got.Config.Env, want.Config.Env) || got.Config.WorkingDir != "/work" || got.Config.User != "1000:1000" {
				t.Errorf("env %v workdir %q user %q, want the base's %v /work 1000:1000", got.Config.Env, got.Config.WorkingDir, got.Config.User, want.Config.Env)
			}
			baseLayers, _ := base.Layers()
			layers, _ := img.Layers()
			if len(layers) != len(baseLayers)+1 {
				t.Fatalf("%d layers, want the base's %d and one", len(layers), len(baseLayers))
			}
			for i := range baseLayers {
				if mustDigest(t, layers[i]) != mustDigest(t, baseLayers[i]) {
					t.Errorf("layer %d is not the base's", i)
				}
			}
			top := layerFiles(t, layers[len(layers)-1])
			if len(top) != 1 || top[BinaryPath[1:]].mode != 0o755 || string(top[BinaryPath[1:]].data) != string(bin) {
				t.Errorf("top layer %v, want only the binary at %s, mode 0755", top, BinaryPath)
			}
			// What a container runtime would start: both the wrapper and
			// the base's shell are found.
			fs, err := imagefs.FromImage(img)
			if err != nil {
				t.Fatal(err)
			}
			for _, exe := range []string{tt.wantEntrypoint[0], "batchxray", "sh"} {
				if _, err := fs.LookPath(exe, got.Config.Env, got.Config.WorkingDir); err != nil {
					t.Errorf("LookPath(%q) in the built image: %v", exe, err)
				}
			}
		})
	}
}

type fileInfo struct {
	mode int64
	data []byte
}

func layerFiles(t *testing.T, l v1.Layer) map[string]fileInfo {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string]fileInfo{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = fileInfo{h.Mode, b}
	}
}

func TestWrapEntrypoint(t *testing.T) {
	tests := []struct{ in, want []string }{
		{nil, []string{BinaryPath, "job", "--"}},
		{[]string{"tini", "--"}, []string{BinaryPath, "job", "--", "tini", "--"}},
		{[]string{BinaryPath, "job", "--", "python3"}, []string{BinaryPath, "job", "--", "python3"}},
		{[]string{BinaryPath, "job"}, []string{BinaryPath, "job", "--", BinaryPath, "job"}},
	}
	for _, tt := range tests {
		in := slices.Clone(tt.in)
		if got := WrapEntrypoint(tt.in); !slices.Equal(got, tt.want) || !slices.Equal(tt.in, in) {
			t.Errorf("WrapEntrypoint(%q) = %q (input now %q), want %q", in, got, tt.in, tt.want)
		}
	}
}

func TestOnBaseIsReproducible(t *testing.T) {
	base := testBase(t, "amd64", baseConfig{cmd: []string{"sh"}})
	a, err := OnBase(base, fakeELF(elf.EM_X86_64))
	if err != nil {
		t.Fatal(err)
	}
	b, err := OnBase(base, fakeELF(elf.EM_X86_64))
	if err != nil {
		t.Fatal(err)
	}
	if mustDigest(t, a) != mustDigest(t, b) {
		t.Errorf("two builds on one base with one binary differ")
	}
}

func TestBasePublisherMountsTheBaseAndPushesOnlyTheNewLayer(t *testing.T) {
	reg, host := newTestRegistry(t)
	ctx := context.Background()
	big := tarLayer(t, testFile{name: "opt/data", mode: 0o644, data: []byte(strings.Repeat("base data ", 10000))})
	base := testBase(t, "arm64", baseConfig{cmd: []string{"sh"}}, big)
	pushImage(t, host+"/users/base:1", base)
	reg.reset()

	p := &BasePublisher{Base: host + "/users/base:1", Binary: fakeELF(elf.EM_AARCH64), Arch: "arm64"}
	ref, pushed, err := p.Publish(ctx, host+"/stack/jobs", "AWS", "pw", false)
	if err != nil || !pushed {
		t.Fatalf("Publish = %v, %v; want a push", pushed, err)
	}
	img := pull(t, ref)
	layers, _ := img.Layers()
	cfgName, _ := img.ConfigName()
	uploaded, mounted, manifests, _ := reg.counts()
	wantUploaded := []string{mustDigest(t, layers[len(layers)-1]), cfgName.String()}
	slices.Sort(uploaded)
	slices.Sort(wantUploaded)
	if diff := cmp.Diff(wantUploaded, uploaded); diff != "" {
		t.Errorf("uploaded blobs (-want: the new layer and the config +got):\n%s", diff)
	}
	var wantMounted []string
	for _, l := range layers[:len(layers)-1] {
		wantMounted = append(wantMounted, mustDigest(t, l))
	}
	slices.Sort(mounted)
	slices.Sort(wantMounted)
	if diff := cmp.Diff(wantMounted, mounted); diff != "" {
		t.Errorf("mounted blobs (-want: the base's layers +got):\n%s", diff)
	}
	if manifests != 1 {
		t.Errorf("%d manifest PUTs, want 1", manifests)
	}

	reg.reset()
	ref2, pushed, err := p.Publish(ctx, host+"/stack/jobs", "AWS", "pw", false)
	if err != nil || pushed || ref2 != ref {
		t.Fatalf("second Publish = %q, %v, %v; want %q and nothing pushed", ref2, pushed, err, ref)
	}
	if uploaded, mounted, manifests, _ := reg.counts(); len(uploaded)+len(mounted)+manifests != 0 {
		t.Errorf("second Publish sent %d blobs, mounted %d, put %d manifests; want nothing", len(uploaded), len(mounted), manifests)
	}

	// A new binary is a new tag: the same base, one more push.
	p.Binary = append(fakeELF(elf.EM_AARCH64), 1)
	ref3, pushed, err := p.Publish(ctx, host+"/stack/jobs", "AWS", "pw", true)
	if err != nil || !pushed || ref3 == ref {
		t.Errorf("dry run with a new binary = %q, %v, %v; want a new tag to push", ref3, pushed, err)
	}
}

func TestBasePublisherPicksThePlatformFromAnIndex(t *testing.T) {
	_, host := newTestRegistry(t)
	ctx := context.Background()
	bases := map[string]v1.Image{}
	idx := v1.ImageIndex(empty.Index)
	for _, arch := range []string{"amd64", "arm64"} {
		bases[arch] = testBase(t, arch, baseConfig{cmd: []string{"sh", "-c", "echo " + arch}})
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: bases[arch], Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	pushIndex(t, host+"/users/multi:1", idx)
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			p := &BasePublisher{Base: host + "/users/multi:1", Binary: fakeELF(elfMachine(arch)), Arch: arch}
			ref, _, err := p.Publish(ctx, host+"/stack/jobs", "AWS", "pw", false)
			if err != nil {
				t.Fatal(err)
			}
			img := pull(t, ref)
			cf, _ := img.ConfigFile()
			if cf.Architecture != arch || cf.Config.Cmd[2] != "echo "+arch {
				t.Errorf("built on %s with cmd %v, want the %s image's", cf.Architecture, cf.Config.Cmd, arch)
			}
			got, _ := img.Layers()
			want, _ := bases[arch].Layers()
			if mustDigest(t, got[0]) != mustDigest(t, want[0]) {
				t.Errorf("bottom layer is not the %s base's", arch)
			}
		})
	}
}

func TestBasePublisherRefusesBadInput(t *testing.T) {
	reg, host := newTestRegistry(t)
	reg.private, reg.user, reg.password = "private/", "alice", "secret"
	ctx := context.Background()
	pushImage(t, host+"/users/amd64only:1", testBase(t, "amd64", baseConfig{cmd: []string{"sh"}}))
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: testBase(t, "amd64", baseConfig{}), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	pushIndex(t, host+"/users/amd64index:1", idx)

	// The base's registry under another name than the stack's, so that
	// the stack's login is not used for it.
	other := strings.Replace(host, "127.0.0.1", "localhost", 1)
	tests := []struct {
		name     string
		base     string
		keychain authn.Keychain
		sentinel error
		want     []string // in the one-line message
	}{
		{"unparsable reference", "Not A Reference", nil, ErrBadReference, []string{`invalid image reference "Not A Reference"`}},
		{"single platform of the wrong architecture", host + "/users/amd64only:1", nil, ErrWrongArchitecture, []string{"is for linux/amd64 only", "compute environment is linux/arm64"}},
		{"index without the architecture", host + "/users/amd64index:1", nil, ErrWrongArchitecture, []string{"has no linux/arm64 image", "it has linux/amd64"}},
		{"no such image", other + "/users/missing:1", staticKeychain{}, ErrBaseUnreadable, []string{"from registry " + other, "with no credentials (nothing for " + other + " in the docker config)", "NAME_UNKNOWN"}},
		{"refused credentials", other + "/private/app:1", staticKeychain{"alice", "wrong"}, ErrBaseUnreadable, []string{"from registry " + other, "with the docker config's credentials for " + other, "UNAUTHORIZED"}},
		{"the stack's login refused", host + "/private/app:1", nil, ErrBaseUnreadable, []string{"from registry " + host, "with the login given for " + host, "UNAUTHORIZED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg.reset()
			p := &BasePublisher{Base: tt.base, Binary: fakeELF(elf.EM_AARCH64), Arch: "arm64", Credentials: &Credentials{Keychain: tt.keychain}}
			_, _, err := p.Publish(ctx, host+"/stack/jobs", "AWS", "pw", false)
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("Publish = %v, want errors.Is %v", err, tt.sentinel)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if err := p.Check(ctx); !errors.Is(err, tt.sentinel) {
				t.Errorf("Check = %v, want errors.Is %v like Publish", err, tt.sentinel)
			}
			if _, _, manifests, _ := reg.counts(); manifests != 0 {
				t.Errorf("%d manifests pushed after a refusal", manifests)
			}
		})
	}
}

// staticKeychain is a docker config with one login for every registry
// (none when user is empty).
type staticKeychain struct{ user, password string }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	if k.user == "" {
		return authn.Anonymous, nil
	}
	return &authn.Basic{Username: k.user, Password: k.password}, nil
}

// fakeECR hands out one token for proxyEndpoint and records the regions
// it was asked for.
type fakeECR struct {
	proxyEndpoint string
	regions       []string
}

func (f *fakeECR) GetAuthorizationToken(_ context.Context, _ *ecr.GetAuthorizationTokenInput, optFns ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error) {
	o := ecr.Options{Region: "client-region"}
	for _, fn := range optFns {
		fn(&o)
	}
	f.regions = append(f.regions, o.Region)
	return &ecr.GetAuthorizationTokenOutput{AuthorizationData: []ecrtypes.AuthorizationData{{
		AuthorizationToken: aws.String("QVdTOmVjci1wYXNzd29yZA=="), // AWS:ecr-password
		ProxyEndpoint:      aws.String(f.proxyEndpoint),
	}}}, nil
}

func TestECRRegion(t *testing.T) {
	for host, want := range map[string]string{
		"123456789012.dkr.ecr.us-east-1.amazonaws.com":          "us-east-1",
		"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com": "us-gov-west-1",
		"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn":      "cn-north-1",
		"123456789012.dkr-ecr.eu-west-1.on.aws":                 "eu-west-1",
		"public.ecr.aws":                                        "",
		"ghcr.io":                                               "",
		"127.0.0.1:4566":                                        "",
		"evil.com/123456789012.dkr.ecr.us-east-1.amazonaws.com": "",
	} {
		if got := ecrRegion(host); got != want {
			t.Errorf("ecrRegion(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestCredentialsUseECRTokensForECRRegistries(t *testing.T) {
	reg, host := newTestRegistry(t)
	reg.private, reg.user, reg.password = "private/", "AWS", "ecr-password"
	ctx := context.Background()
	pushImageAs(t, host+"/private/base:1", testBase(t, "amd64", baseConfig{cmd: []string{"sh"}}), "AWS", "ecr-password")

	api := &fakeECR{proxyEndpoint: "http://" + host}
	p := &BasePublisher{Base: host + "/private/base:1", Binary: fakeELF(elf.EM_X86_64), Arch: "amd64", Credentials: &Credentials{ECR: api, Keychain: staticKeychain{"docker", "config"}}}
	if err := p.Check(ctx); err != nil {
		t.Fatalf("Check with the ECR token for the proxy endpoint's host: %v", err)
	}
	if !slices.Equal(api.regions, []string{"client-region"}) {
		t.Errorf("GetAuthorizationToken asked for regions %v, want the client's once", api.regions)
	}

	c := &Credentials{ECR: api}
	a, what, err := c.resolve(ctx, mustRegistry(t, "123456789012.dkr.ecr.eu-west-3.amazonaws.com"))
	if err != nil || !strings.Contains(what, "ECR authorization token (region eu-west-3)") {
		t.Fatalf("resolve an ECR host = %q, %v", what, err)
	}
	if cfg, _ := a.Authorization(); cfg.Username != "AWS" || cfg.Password != "ecr-password" {
		t.Errorf("ECR login %+v, want AWS and the token's password", cfg)
	}
	if api.regions[len(api.regions)-1] != "eu-west-3" {
		t.Errorf("token asked in region %v, want the registry's eu-west-3", api.regions)
	}
}
