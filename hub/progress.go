package hub

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports one file's download. On a terminal it draws a progress
// bar; on anything else (a log file, a pipe, a test buffer) it writes one line
// when the download starts and one when it ends, because a redrawn bar turns
// into megabytes of carriage returns in logs. With no writer it is silent.
type progress struct {
	bar   *progressbar.ProgressBar // terminal only
	plain io.Writer                // non-terminal only
	label string
	total int64
	start time.Time
}

func (c *Client) newProgress(repoID, file string, total int64) *progress {
	p := &progress{label: repoID + "/" + file, total: total, start: time.Now()}
	switch {
	case c.Progress == nil:
	case isTerminal(c.Progress):
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(c.Progress),
			progressbar.OptionSetDescription(file),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(c.Progress) }),
		)
	default:
		p.plain = c.Progress
		fmt.Fprintf(p.plain, "hub: downloading %s (%s)\n", p.label, humanBytes(total))
	}
	return p
}

// isTerminal reports whether w is a terminal (an *os.File on a TTY).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Write counts downloaded bytes (progress is the tee of the body).
func (p *progress) Write(b []byte) (int, error) {
	if p.bar != nil {
		_ = p.bar.Add(len(b))
	}
	return len(b), nil
}

// set moves the bar to off, where a (resumed) attempt starts.
func (p *progress) set(off int64) {
	if p.bar != nil {
		_ = p.bar.Set64(off)
	}
}

func (p *progress) finish(ok bool) {
	switch {
	case p.bar != nil && ok:
		_ = p.bar.Finish()
	case p.bar != nil:
		_ = p.bar.Exit()
	case p.plain != nil && ok:
		fmt.Fprintf(p.plain, "hub: downloaded %s (%s in %s)\n", p.label, humanBytes(p.total), time.Since(p.start).Round(time.Millisecond))
	}
}

func humanBytes(n int64) string {
	if n < 0 {
		return "size unknown"
	}
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
