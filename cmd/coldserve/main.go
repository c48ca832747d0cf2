// Command coldserve serves IBM's ColD-Fusion (a RoBERTa-base encoder) and its finetuned
// classification heads over HTTP: embeddings, classification, tokenization.
//
//	coldserve serve --model DIR [flags]   serve a local Hugging Face checkpoint directory
//	coldserve serve --model demo          serve a tiny embedded checkpoint with random weights
//	coldserve serve --model ibm/ColD-Fusion  download from the Hugging Face Hub and serve
//	coldserve fuse --out DIR SRC...       ColD Fusion's fuse step, written as a HF directory
//	coldserve healthcheck                 GET /healthz of a running server (exit 0 when healthy)
//
// Every flag can also be set through an environment variable: --max-batch-tokens reads
// COLDSERVE_MAX_BATCH_TOKENS. Run `coldserve serve -h` for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `coldserve: ColD-Fusion embeddings and classification over HTTP

Usage:
  coldserve serve --model DIR|demo [flags]   run the server (coldserve serve -h for flags)
  coldserve fuse --out DIR [--weights w,...] SRC...   ColD Fusion's fuse step into a HF directory
  coldserve healthcheck [--addr HOST:PORT]   exit 0 when GET /healthz answers 200
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "coldserve:", err)
		os.Exit(1)
	}
}

// run dispatches a subcommand. onListen, if not nil, is told the address the server bound
// (tests listen on port 0).
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, onListen func(string)) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing subcommand")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stderr, onListen)
	case "healthcheck":
		return healthcheck(ctx, args[1:], getenv, stderr)
	case "fuse":
		return fuse(ctx, args[1:], stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stderr, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown subcommand %q", args[0])
	}
}
