package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// keyring holds Bearer tokens as SHA-256 sums. matches compares a request's token with every
// one of them in constant time, so the time taken reveals neither a token nor its length, nor
// which of several keys matched.
type keyring [][sha256.Size]byte

func newKeyring(tokens ...string) keyring {
	var k keyring
	for _, t := range tokens {
		if t != "" {
			k = append(k, sha256.Sum256([]byte(t)))
		}
	}
	return k
}

// matches reports whether header is "Bearer <token>" (any case of "Bearer") with a token of
// the ring.
func (k keyring) matches(header string) bool {
	scheme, tok, ok := strings.Cut(header, " ")
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	found := 0
	for _, want := range k {
		found |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return ok && strings.EqualFold(scheme, "Bearer") && found == 1
}

// apiKey requires Authorization: Bearer <key> with one of --api-key's keys on the inference
// routes (native, TEI and OpenAI); without keys every request passes. It runs before
// admission, so a request without a key costs no queue room. Keys are never logged.
func (s *Server) apiKey() gin.HandlerFunc {
	keys := newKeyring(s.opts.APIKeys...)
	return func(c *gin.Context) {
		if len(keys) == 0 || keys.matches(c.GetHeader("Authorization")) {
			c.Next()
			return
		}
		c.Header("WWW-Authenticate", `Bearer realm="coldserve"`)
		s.fail(c, errorf(http.StatusUnauthorized, CodeUnauthorized,
			"missing or wrong API key: send Authorization: Bearer <key>"))
	}
}
