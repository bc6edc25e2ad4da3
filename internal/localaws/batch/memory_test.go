package batch_test

import (
	"runtime"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsbatch "github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"

	"github.com/batchxray/batchxray/internal/localaws"
)

func TestJobKilledForMemory(t *testing.T) {
	for _, tt := range []struct {
		name    string
		command []string
		memory  string
		inject  bool
	}{
		// The shell holds 32 MiB in a variable, over the job's 8.
		{"resident memory over the job's", []string{"sh", "-c", `x=$(head -c 33554432 /dev/zero | tr '\0' a); sleep 600`}, "8", false},
		{"an injected fault", []string{"sleep", "600"}, "512", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.inject && runtime.GOOS != "linux" {
				t.Skip("resident memory is read from /proc")
			}
			f := start(t, localaws.Options{})
			f.stack("q", 4)
			def := f.define("hog", tt.command, func(in *awsbatch.RegisterJobDefinitionInput) {
				in.ContainerProperties.ResourceRequirements[1].Value = aws.String(tt.memory)
			})
			id := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)})
			if tt.inject {
				f.waitFor(id, types.JobStatusRunning)
				if err := f.srv.ExceedMemory(id); err != nil {
					t.Fatal(err)
				}
			}
			j, _ := f.waitFor(id, types.JobStatusFailed)
			if got := aws.ToString(j.Container.Reason); got != "OutOfMemoryError: Container killed due to memory usage" {
				t.Errorf("container reason %q, want OutOfMemoryError", got)
			}
			if got := aws.ToInt32(j.Container.ExitCode); got != 137 {
				t.Errorf("exit code %d, want 137 (SIGKILL)", got)
			}
			if got := aws.ToString(j.StatusReason); got != "Essential container in task exited" {
				t.Errorf("statusReason %q", got)
			}
			if len(j.Attempts) != 1 || aws.ToString(j.Attempts[0].Container.Reason) != aws.ToString(j.Container.Reason) {
				t.Errorf("attempts %+v, want one with the OutOfMemoryError reason", j.Attempts)
			}
		})
	}
}

func TestJobWithinItsMemoryRuns(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 4)
	def := f.define("small", []string{"sh", "-c", `x=$(head -c 1048576 /dev/zero | tr '\0' a); exit 0`}, nil)
	f.waitFor(f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)}), types.JobStatusSucceeded)
}
