package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// --checkpoint-file and --checkpoint-poll read from flags or COLDSERVE_*, a poll must be
// positive, a COLDSERVE_* variable that names no flag is ignored, and a declaration that is
// missing or does not parse stops the server before it listens.
func TestCheckpointFileFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "checkpoint.yaml")
	if err := os.WriteFile(file, []byte("source: tiny\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := parseServe([]string{"--model", "demo"}, env(map[string]string{
		"COLDSERVE_CHECKPOINT_FILE": file, "COLDSERVE_CHECKPOINT_POLL": "250ms", "COLDSERVE_NOT_A_FLAG": "x"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.checkpointFile != file || c.checkpointPoll != 250*time.Millisecond {
		t.Errorf("parsed %q every %v", c.checkpointFile, c.checkpointPoll)
	}
	if c, _ := parseServe([]string{"--model", "demo"}, env(nil), io.Discard); c.checkpointFile != "" || c.checkpointPoll != 10*time.Second {
		t.Errorf("defaults: %q every %v", c.checkpointFile, c.checkpointPoll)
	}
	for _, poll := range []string{"0s", "-1s"} {
		if _, err := parseServe([]string{"--model", "demo", "--checkpoint-poll", poll}, env(nil), io.Discard); err == nil ||
			!strings.Contains(err.Error(), "--checkpoint-poll") {
			t.Errorf("--checkpoint-poll %s: %v", poll, err)
		}
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("source: tiny\nmin_cosine: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, err string }{
		{filepath.Join(dir, "absent.yaml"), "absent.yaml"},
		{bad, "min_cosine"},
	} {
		listened := false
		err := run(context.Background(), []string{"serve", "--model", "demo", "--addr", "127.0.0.1:0", "--checkpoint-file", tc.file},
			env(nil), io.Discard, func(string) { listened = true })
		if err == nil || !strings.Contains(err.Error(), tc.err) || listened {
			t.Errorf("--checkpoint-file %s: %v (listened %v), want an error with %q before listening", tc.file, err, listened, tc.err)
		}
	}
}

// Every flag and COLDSERVE_* variable the Helm chart passes is one `coldserve serve` knows, so
// a chart and the binary it runs cannot drift apart unnoticed. (The chart test in deploy/
// checks the rendered objects; this checks them against the binary.)
func TestChartFlagsExist(t *testing.T) {
	tmpl, err := os.ReadFile("../../deploy/helm/coldserve/templates/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	values, err := os.ReadFile("../../deploy/helm/coldserve/values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{} // flag → where the chart uses it
	for _, m := range regexp.MustCompile(`(?m)^\s*- --([a-z][a-z0-9-]*)`).FindAllStringSubmatch(string(tmpl), -1) {
		names[m[1]] = "--" + m[1]
	}
	for _, m := range regexp.MustCompile(`\bCOLDSERVE_([A-Z0-9_]+)`).FindAllStringSubmatch(string(tmpl)+string(values), -1) {
		names[strings.ReplaceAll(strings.ToLower(m[1]), "_", "-")] = "COLDSERVE_" + m[1]
	}
	for _, want := range []string{"checkpoint-file", "checkpoint-poll", "model", "addr", "admin-token", "api-key"} {
		if names[want] == "" {
			t.Errorf("the chart does not pass --%s: did the template change shape?", want)
		}
	}
	for flag, use := range names {
		_, err := parseServe([]string{"--model", "demo", "--" + flag + "=x"}, env(nil), io.Discard)
		if err != nil && strings.Contains(err.Error(), "flag provided but not defined") {
			t.Errorf("the chart passes %s, but coldserve serve has no --%s", use, flag)
		}
	}
}
