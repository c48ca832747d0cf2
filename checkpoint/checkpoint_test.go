package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coldserve/coldserve/hub"
)

func TestResolverRoots(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	for _, d := range []string{filepath.Join(root, "ok"), filepath.Join(outside, "x")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(outside, "x"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	r := &Resolver{Roots: []string{root}}
	var forbidden *ForbiddenError
	var notFound *NotFoundError
	for _, tc := range []struct {
		src  string
		want any
	}{
		{"ok", nil}, {filepath.Join(root, "ok"), nil},
		{"link", &forbidden}, {"../" + filepath.Base(outside) + "/x", &forbidden}, {outside, &forbidden},
		{"ok/../../etc", &forbidden}, {"missing", &notFound}, {"ibm/ColD-Fusion", &forbidden}, {"", &forbidden},
	} {
		_, err := r.Resolve(context.Background(), tc.src, "")
		switch w := tc.want.(type) {
		case nil:
			if err != nil {
				t.Errorf("%q: %v", tc.src, err)
			}
		case **ForbiddenError:
			if !errors.As(err, w) {
				t.Errorf("%q: %v, want forbidden", tc.src, err)
			}
		case **NotFoundError:
			if !errors.As(err, w) {
				t.Errorf("%q: %v, want not found", tc.src, err)
			}
		}
	}
	if _, err := (&Resolver{}).Resolve(context.Background(), "ok", ""); !errors.As(err, &forbidden) {
		t.Errorf("no roots: %v", err)
	}
}

// Refusals name what was refused (a fuse output is not a "source") and quote at most a
// bounded prefix of the path, however long the request's was.
func TestResolverMessages(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	r := &Resolver{Roots: []string{root}}
	long := strings.Repeat("a", 100_000)
	for _, tc := range []struct {
		name string
		err  func() error
		want string
	}{
		{"output outside the root", func() error { _, err := r.Output(filepath.Join(outside, "itr14")); return err }, "output "},
		{"output under a missing parent", func() error { _, err := r.Output("no/such/itr14"); return err }, "output "},
		{"source outside the root", func() error { _, err := r.Resolve(context.Background(), outside, ""); return err }, "source "},
		{"long source", func() error { _, err := r.Resolve(context.Background(), "/"+long, ""); return err }, "source "},
		{"long output", func() error { _, err := r.Output("/" + long); return err }, "output "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if err == nil {
				t.Fatal("accepted")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, tc.want) || len(msg) > 2*maxQuoted+200 {
				t.Errorf("message (%d bytes) %.120q does not start with %q or is not bounded", len(msg), msg, tc.want)
			}
		})
	}
}

func TestErrorKinds(t *testing.T) {
	tests := []struct {
		name string
		err  error
		kind error
	}{
		{"forbidden", &ForbiddenError{Source: "x", Reason: "r"}, ErrForbidden},
		{"not found", &NotFoundError{Source: "x", Err: fs.ErrNotExist}, ErrNotFound},
		{"output exists", &OutputExistsError{Dir: "x"}, ErrOutputExists},
		{"hub 404", &HubError{Repo: "a/b", Err: &hub.HTTPError{StatusCode: http.StatusNotFound}}, ErrNotFound},
		{"hub 401", &HubError{Repo: "a/b", Err: &hub.HTTPError{StatusCode: http.StatusUnauthorized}}, ErrNotFound},
		{"hub not cached", &HubError{Repo: "a/b", Err: fmt.Errorf("snapshot: %w", hub.ErrNotCached)}, ErrNotFound},
		{"hub 500", &HubError{Repo: "a/b", Err: &hub.HTTPError{StatusCode: http.StatusInternalServerError}}, ErrHubUnavailable},
		{"hub network", &HubError{Repo: "a/b", Err: errors.New("dial tcp: refused")}, ErrHubUnavailable},
		{"wrapped", fmt.Errorf("swap: %w", &ForbiddenError{Source: "x"}), ErrForbidden},
	}
	kinds := []error{ErrForbidden, ErrNotFound, ErrHubUnavailable, ErrOutputExists}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range kinds {
				if got, want := errors.Is(tt.err, k), k == tt.kind; got != want {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, k, got, want)
				}
			}
		})
	}
}
