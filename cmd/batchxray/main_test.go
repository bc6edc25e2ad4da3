package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"batchxray": func() { os.Exit(run()) },
	})
}

// TestScript runs the end-to-end scripts in testdata/script through the real
// main.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfile":  cmdWaitFile,
			"mkstack":   cmdMakeStack,
			"awsput":    cmdAWSPut,
			"validjson": cmdValidJSON,
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
