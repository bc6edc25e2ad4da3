package main

import (
	"flag"
	"fmt"
	"os"
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

func TestMain(m *testing.M) {
	testscript.Main(scriptsMain{m}, map[string]func(){
		"batchxray": func() {
			if p := os.Getenv("BATCHXRAY_TEST_PLATFORM"); p != "" {
				hostPlatform = p // up as a build for another platform would run
			}
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
			return nil
		},
	})
}
