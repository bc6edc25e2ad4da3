package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// scriptsPerCPU is how many tests run at once per GOMAXPROCS when -parallel
// is not given. The scripts spend most of their time waiting on the
// stand-in's delays and on their jobs, not on a CPU, so the default of one
// per CPU leaves the machine idle.
const scriptsPerCPU = 4

// jobBinaryEnv passes the scripts' batchxray the small executable that
// stands in for it in the job images up builds (see smallJobBinary).
const jobBinaryEnv = "BATCHXRAY_TEST_JOB_BINARY"

// smallJobBinary is what the job images the tests push hold in place of
// this binary: true(1), a small executable of this machine's platform, so
// that a push moves tens of KB, not the 110 MB race-built test binary
// (gzipped twice and unpacked once under -race, one push cost about 70 s of
// CPU: up 49 s, the stand-in 21 s). The stand-in runs its own batchxray for
// a job's `batchxray` and only reads the image's files, so the jobs run the
// same either way. It is "" when there is none: the tests then push the
// test binary itself.
var smallJobBinary string

// useJobBinary makes up's job image hold path in place of this binary.
func useJobBinary(path string) {
	if path != "" {
		ownBinary = func() (string, error) { return path, nil }
	}
}

func TestMain(m *testing.M) {
	testscript.Main(scriptsMain{m}, map[string]func(){
		"batchxray": func() {
			if p := os.Getenv("BATCHXRAY_TEST_PLATFORM"); p != "" {
				hostPlatform = p // up as a build for another platform would run
			}
			useJobBinary(os.Getenv(jobBinaryEnv))
			os.Exit(run())
		},
	})
}

// scriptsMain runs the tests with the scripts' parallelism and closes the
// shared stand-ins after them. testscript.Main calls Run only in the test
// binary itself, not when it runs as batchxray.
type scriptsMain struct{ m *testing.M }

func (s scriptsMain) Run() int {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		if err := flag.Set("test.parallel", strconv.Itoa(scriptsPerCPU*runtime.GOMAXPROCS(0))); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if p, err := exec.LookPath("true"); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			smallJobBinary = abs
		}
	}
	useJobBinary(smallJobBinary)
	code := s.m.Run()
	if err := sharedStandIns.close(); err != nil {
		fmt.Fprintf(os.Stderr, "stop the shared stand-ins: %v\n", err)
		code = 1
	}
	return code
}

// TestScript runs the end-to-end scripts in testdata/script through the real
// main. testscript runs each script as a parallel subtest.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"standin":   cmdStandIn,
			"waitfile":  cmdWaitFile,
			"mkstack":   cmdMakeStack,
			"awsput":    cmdAWSPut,
			"validjson": cmdValidJSON,
			"pushimage": cmdPushImage,
			// The trace scripts' own stand-in, its faults, and raw SubmitJob.
			"ownstandin": cmdOwnStandIn,
			"fault":      cmdFault,
			"oom":        cmdOOM,
			"rawsubmit":  cmdRawSubmit,
		},
		Setup: func(env *testscript.Env) error {
			// Nothing from the developer's own AWS set-up may leak in.
			for _, k := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "BATCHXRAY_STACK", "NO_COLOR"} {
				env.Setenv(k, "")
			}
			env.Setenv("AWS_CONFIG_FILE", env.WorkDir+"/no-aws-config")
			env.Setenv("AWS_SHARED_CREDENTIALS_FILE", env.WorkDir+"/no-aws-credentials")
			// No instance metadata here: fail the chain at once.
			env.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			env.Setenv(jobBinaryEnv, smallJobBinary)
			return nil
		},
	})
}
