package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/batchxray/batchxray/internal/provision"
	"github.com/batchxray/batchxray/internal/ui"
)

// The stack report: what up and down print of the resources, as progress
// on stderr, as the plan on stdout, or as JSON.

// newStackProvisioner is up's and down's provisioner, its progress going
// to stderr; plan says the lines are a plan's.
func newStackProvisioner(f *factory, sc *stackContext, waits provision.WaitOptions, plan bool) (*provision.Provisioner, *ui.Progress) {
	io := f.IOStreams
	progress := ui.NewProgress(io)
	p := provision.New(sc.cfg, sc.names, provision.Options{
		Logger:   f.Logger(),
		Observer: progressObserver(progress, ui.NewStyles(io.ErrOut, io.ColorEnabledStderr()), plan),
		Waits:    waits,
	})
	return p, progress
}

// stackReport is `up` and `down`'s JSON output.
type stackReport struct {
	Stack     string             `json:"stack"`
	Region    string             `json:"region"`
	DryRun    bool               `json:"dryRun,omitempty"`
	Resources []provision.Result `json:"resources"`
}

// printStackReport writes the data on stdout: the resources as JSON, or the
// plan as text in a dry run. A real run's text goes to stderr as progress.
func printStackReport(w io.Writer, asJSON, dryRun bool, sc *stackContext, results []provision.Result) error {
	if asJSON {
		if results == nil {
			results = []provision.Result{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(stackReport{Stack: sc.names.Stack, Region: sc.cfg.Region, DryRun: dryRun, Resources: results})
	}
	if dryRun {
		plain := ui.NewStyles(w, false)
		for _, r := range results {
			if _, err := fmt.Fprintln(w, resultLine(plain, r, true)); err != nil {
				return err
			}
		}
	}
	return nil
}

// printSteps says in what order up goes: a step after those before it,
// the resources of one step at once.
func printSteps(w io.Writer, steps [][]provision.Result) {
	for i, step := range steps {
		var names []string
		for _, r := range step {
			names = append(names, r.Kind+" "+r.Name)
		}
		fmt.Fprintf(w, "step %d: %s\n", i+1, strings.Join(names, ", "))
	}
}

// actionGlyph carries the meaning without colour. A switch, not a map: a
// map literal would be built at init by every command.
func actionGlyph(a provision.Action) string {
	switch a {
	case provision.Create:
		return "+"
	case provision.Update:
		return "~"
	case provision.Unchanged:
		return "="
	case provision.Delete:
		return "-"
	case provision.Absent:
		return "·"
	}
	return "!" // NotOurs, Skipped
}

// actionWord is how a plan (plan) or a finished run names an action.
func actionWord(a provision.Action, plan bool) string {
	switch a {
	case provision.NotOurs:
		return "not ours"
	case provision.Skipped:
		if plan {
			return "skip"
		}
		return "skipped"
	case provision.Unchanged, provision.Absent:
		return string(a)
	}
	if plan {
		return string(a)
	}
	return string(a) + "d" // created, updated, deleted
}

func resultLine(s ui.Styles, r provision.Result, plan bool) string {
	style := s.Muted
	switch r.Action {
	case provision.Create, provision.Delete:
		style = s.OK
	case provision.Update:
		style = s.Running
	case provision.NotOurs, provision.Skipped:
		style = s.Warn
	}
	line := fmt.Sprintf("%s %-10s %-21s %s", actionGlyph(r.Action), actionWord(r.Action, plan), r.Kind, r.Name)
	if r.Detail != "" {
		line += " (" + r.Detail + ")"
	}
	return style.Render(line)
}

func progressObserver(p *ui.Progress, s ui.Styles, plan bool) provision.Observer {
	return func(e provision.Event) {
		label := e.Kind + " " + e.Name
		if !e.Done {
			p.Start(label)
			return
		}
		if e.Err != nil {
			var no *provision.NotOursError
			if errors.As(e.Err, &no) {
				// The line names the resource already: the reason alone.
				p.Done(label, resultLine(s, e.Result, plan)+s.Warn.Render(": "+no.Error()))
				return
			}
			p.Done(label, s.Failed.Render(fmt.Sprintf("%s %-10s %-21s %s: %v", ui.GlyphFailed, "failed", e.Kind, e.Name, explainAWSError(e.Err))))
			return
		}
		if plan {
			// The plan itself is the data on stdout.
			p.End(label)
			return
		}
		p.Done(label, resultLine(s, e.Result, plan))
	}
}

// summary is the last line: counts by action, and the time taken.
func summary(verb string, results []provision.Result, took time.Duration, err error) string {
	counts := map[provision.Action]int{}
	for _, r := range results {
		counts[r.Action]++
	}
	var parts []string
	for _, a := range []provision.Action{provision.Create, provision.Update, provision.Unchanged, provision.Delete, provision.Absent, provision.NotOurs, provision.Skipped} {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[a], actionWord(a, verb == "plan")))
		}
	}
	status := "done"
	if err != nil {
		status = "failed"
	}
	if len(parts) == 0 {
		parts = []string{"nothing"}
	}
	return fmt.Sprintf("%s %s: %s (%s)", verb, status, strings.Join(parts, ", "), took.Round(100*time.Millisecond))
}
