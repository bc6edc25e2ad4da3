package localaws

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// SamplePath is where the stand-in serves the sample job's URL, since the
// machine it runs on may have no internet. ?status=N answers with that
// status and ?delay=D waits D first (at most 10s), so a demo can show a slow
// or failing call.
const SamplePath = "/_batchxray/sample"

func (s *Server) serveSample(w http.ResponseWriter, r *http.Request) {
	status := http.StatusOK
	if v := r.URL.Query().Get("status"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 200 || n > 599 {
			http.Error(w, "status must be 200 to 599", http.StatusBadRequest)
			return
		}
		status = n
	}
	if v := r.URL.Query().Get("delay"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 10*time.Second {
			http.Error(w, "delay must be a duration from 0 to 10s", http.StatusBadRequest)
			return
		}
		select {
		case <-s.opts.Clock.After(d):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>batchxray sample</title><p>The sample page of batchxray local (%d).</p>\n", status)
}
