package weights

import (
	"errors"
	"path/filepath"
	"testing"
)

// Digest's first 12 digits are Checkpoint.ID, whatever the file format.
func TestDigestExtendsID(t *testing.T) {
	for _, dir := range []string{"tiny-roberta", "tiny-roberta-bin", "tiny-roberta-bf16-sharded"} {
		ck, err := Load(t.Context(), filepath.Join("../testdata/models", dir))
		if err != nil {
			t.Fatal(err)
		}
		d := ck.Digest()
		if len(d) != 64 || "sha256:"+d[:12] != ck.ID() {
			t.Errorf("%s: digest %s, id %s", dir, d, ck.ID())
		}
		if _, err := MatchDigest(ck, ck.ID()); err != nil {
			t.Errorf("%s: own id refused: %v", dir, err)
		}
		var mm *DigestMismatchError
		if _, err := MatchDigest(ck, "ffffffffffff"); !errors.As(err, &mm) || !errors.Is(err, ErrDigestMismatch) {
			t.Errorf("%s: wrong digest: %v", dir, err)
		}
	}
}
