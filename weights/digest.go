package weights

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrDigestMismatch is the kind of *DigestMismatchError, for errors.Is.
var ErrDigestMismatch = errors.New("digest mismatch")

// DigestMismatchError says the loaded weights are not the ones the operator expected (422).
type DigestMismatchError struct {
	Expected string
	Actual   string // full 64-digit digest
}

func (e *DigestMismatchError) Is(target error) bool { return target == ErrDigestMismatch }

func (e *DigestMismatchError) Error() string {
	return fmt.Sprintf("weights digest sha256:%s does not match the expected %s", e.Actual, e.Expected)
}

var hexDigits = regexp.MustCompile(`^[0-9a-f]{12,64}$`)

// ParseExpected normalises an expected digest: "sha256:" is optional, hex is case-insensitive,
// and at least 12 digits (the length of Checkpoint.ID) up to all 64 are required. It returns
// the lowercase hex.
func ParseExpected(s string) (string, error) {
	h := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "sha256:")
	if !hexDigits.MatchString(h) {
		return "", fmt.Errorf("sha256 %q: want the checkpoint id (sha256:<12 hex digits>) or 12 to 64 hex digits of the weights digest", s)
	}
	return h, nil
}

// MatchDigest checks ck against an expected digest prefix accepted by ParseExpected. It
// returns the full digest either way.
func MatchDigest(ck *Checkpoint, expected string) (string, error) {
	want, err := ParseExpected(expected)
	if err != nil {
		return "", err
	}
	got := ck.Digest()
	if !strings.HasPrefix(got, want) {
		return got, &DigestMismatchError{Expected: expected, Actual: got}
	}
	return got, nil
}
