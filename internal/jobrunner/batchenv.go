package jobrunner

import (
	"crypto/rand"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
)

// batchJob is what AWS Batch tells the container about its job, through the
// AWS_BATCH_* variables it sets.
type batchJob struct {
	// ID is AWS_BATCH_JOB_ID, "<parent>:<index>" for an array child, or
	// "local-<random>" outside Batch.
	ID string
	// Name comes from us, not Batch: Batch sets no variable for it.
	Name               string
	Queue              string
	ComputeEnvironment string
	// Attempt is AWS_BATCH_JOB_ATTEMPT, 1 for the first; 0 when unknown.
	Attempt int
	// ArrayJobID and ArrayIndex are set for an array child only.
	ArrayJobID string
	ArrayIndex int
	IsArray    bool
	// Local is true outside Batch (no AWS_BATCH_JOB_ID).
	Local bool
	// Env holds every AWS_BATCH_* variable, for the segment's metadata.
	Env map[string]string
}

// readBatchJob reads the job from an environment in os.Environ form.
func readBatchJob(environ []string, name string) batchJob {
	j := batchJob{Name: name, Env: map[string]string{}}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_BATCH_") {
			j.Env[k] = v
		}
	}
	j.ID = j.Env["AWS_BATCH_JOB_ID"]
	j.Queue = j.Env["AWS_BATCH_JQ_NAME"]
	j.ComputeEnvironment = j.Env["AWS_BATCH_CE_NAME"]
	if n, err := strconv.Atoi(j.Env["AWS_BATCH_JOB_ATTEMPT"]); err == nil {
		j.Attempt = n
	}
	if s, ok := j.Env["AWS_BATCH_JOB_ARRAY_INDEX"]; ok {
		if n, err := strconv.Atoi(s); err == nil {
			j.IsArray = true
			j.ArrayIndex = n
			j.ArrayJobID, _, _ = strings.Cut(j.ID, ":")
		}
	}
	if j.ID == "" {
		j.Local = true
		j.ID = "local-" + randomHex(8)
		if j.Attempt == 0 {
			j.Attempt = 1
		}
	}
	return j
}

// annotations are the segment's filterable keys: letters, digits and _ only,
// so `annotation.job_id = "..."` finds the trace. Empty values are left out.
func (j batchJob) annotations() map[string]any {
	a := map[string]any{"job_id": j.ID}
	for k, v := range map[string]string{"job_name": j.Name, "job_queue": j.Queue, "compute_environment": j.ComputeEnvironment} {
		if v != "" {
			a[k] = v
		}
	}
	if j.Attempt > 0 {
		a["attempt"] = j.Attempt
	}
	if j.IsArray {
		a["array_job_id"] = j.ArrayJobID
		a["array_index"] = j.ArrayIndex
	}
	return a
}

// sortedKeys returns m's keys in order, so the segment is built the same way
// every time.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on supported platforms (crypto/rand)
	return hex.EncodeToString(b)
}

// lookupEnv finds key in an environment in os.Environ form; the last entry
// wins, as in exec.
func lookupEnv(environ []string, key string) (string, bool) {
	for i := len(environ) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(environ[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}
