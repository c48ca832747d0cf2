package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// envName is the environment variable that backs a flag: --max-batch-tokens reads
// COLDSERVE_MAX_BATCH_TOKENS.
func envName(flagName string) string {
	return "COLDSERVE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseWithEnv parses args into fs; then every flag not given on the command line takes the
// value of its environment variable when that is set. Precedence: flag > env > default.
// It returns the names of the flags set from the environment (fs.Visit lists those too).
func parseWithEnv(fs *flag.FlagSet, args []string, getenv func(string) string) (fromEnv map[string]bool, err error) {
	fs.VisitAll(func(f *flag.Flag) { f.Usage += fmt.Sprintf(" (env %s)", envName(f.Name)) })
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	fromEnv = map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
			}
			fromEnv[f.Name] = true
		}
	})
	return fromEnv, err
}

// listFlag is a repeatable flag; one value may also hold a comma-separated list (as the
// environment variable does).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// byteSize is a size in bytes written as 2097152, 2MB, 512KB or 1GB (powers of 1024).
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(v string) error {
	s := strings.ToUpper(strings.TrimSpace(v))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("want a positive size like 2MB, got %q", v)
	}
	*b = byteSize(n * mult)
	return nil
}

// cacheSize is a byteSize that also accepts 0 (for --cache-bytes, where 0 disables the cache).
type cacheSize struct{ byteSize }

func (c *cacheSize) Set(v string) error {
	if strings.TrimSpace(v) == "0" {
		c.byteSize = 0
		return nil
	}
	return c.byteSize.Set(v)
}
