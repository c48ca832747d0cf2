package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/coldserve/coldserve/hub"
	"github.com/coldserve/coldserve/weights"
)

// fuse runs `coldserve fuse --out DIR [--weights w1,w2,...] SRC...`: ColD Fusion's fuse step
// (weights.Fuse: the weighted mean of the sources' encoder parameters) written as a Hugging Face
// directory with the first source's tokenizer files. A SRC may be a local directory or a Hub
// id (downloaded like --model).
func fuse(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("coldserve fuse", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory to write (config.json, model.safetensors, tokenizer files)")
	var weightList listFlag
	fs.Var(&weightList, "weights", "one non-negative weight per source, comma-separated (default: equal)")
	revision := fs.String("revision", "main", "Hub revision for sources that are Hub ids")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: coldserve fuse --out DIR [--weights w1,w2,...] SRC...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	srcs := fs.Args()
	switch {
	case *out == "":
		return errors.New("fuse: --out is required")
	case len(srcs) == 0:
		return errors.New("fuse: name at least one source checkpoint")
	case len(weightList) > 0 && len(weightList) != len(srcs):
		return fmt.Errorf("fuse: %d weights for %d sources", len(weightList), len(srcs))
	}
	var mix []float64
	for _, w := range weightList {
		v, err := strconv.ParseFloat(w, 64)
		if err != nil {
			return fmt.Errorf("fuse: weight %q: %w", w, err)
		}
		mix = append(mix, v)
	}
	dirs := make([]string, len(srcs))
	var client *hub.Client
	for i, src := range srcs {
		dirs[i] = src
		if !hub.IsRepoID(src) || isDir(src) {
			continue
		}
		if client == nil {
			c, err := hub.NewFromEnv()
			if err != nil {
				return err
			}
			c.Logger = slog.Default() // the fuse command logs through the default, as before
			client = c
		}
		dir, err := client.Snapshot(ctx, src, *revision, hub.SnapshotOptions{})
		if err != nil {
			return fmt.Errorf("fuse: source %s: %w", src, err)
		}
		dirs[i] = dir
	}
	start := time.Now()
	ck, err := weights.FuseDirs(ctx, dirs, mix)
	if err != nil {
		return err
	}
	if err := weights.WriteFused(*out, ck, dirs[0]); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "fused %d checkpoints into %s: checkpoint %s (%.2fs)\n", len(srcs), *out, ck.ID(), time.Since(start).Seconds())
	return nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
