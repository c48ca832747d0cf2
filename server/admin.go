package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/checkpoint"
)

// AdminOptions configure the admin API under /admin.
type AdminOptions struct {
	// Token is the Bearer token every admin request must carry (--admin-token). Empty disables
	// the admin API: every /admin route answers 403 admin_disabled.
	Token string
	// Sources says where checkpoints may come from (--checkpoint-root, --allow-hub). Nil allows
	// no source at all.
	Sources *checkpoint.Resolver
}

// maxHistory bounds GET /admin/checkpoint's history.
const maxHistory = 100

// admin is the admin API's state. mu is held for the whole of one change (swap, rollback, fuse,
// head change), so changes never interleave; a second one arriving meanwhile gets 409.
//
// Memory: history keeps metadata only (strings and numbers), never a checkpoint or an encoder,
// so the weights of a replaced checkpoint are freed once the last batch pinned to them finishes.
// Rollback therefore reloads the previous checkpoint from where it came from (its directory, or
// its fuse sources and weights) and checks that its digest is unchanged.
type admin struct {
	opts AdminOptions
	mu   sync.Mutex

	hmu     sync.Mutex // guards history (read by GET without taking mu)
	history []record
}

// record is one history entry plus how to load that checkpoint again (for rollback).
type record struct {
	entry api.HistoryEntry
	// dir to reload from, or fuseDirs+fuseWeights for an in-memory fuse.
	dir         string
	fuseDirs    []string
	fuseWeights []float64
}

func (a *admin) push(r record) {
	a.hmu.Lock()
	defer a.hmu.Unlock()
	a.history = append(a.history, r)
	if len(a.history) > maxHistory {
		a.history = append([]record(nil), a.history[len(a.history)-maxHistory:]...)
	}
}

// last returns the i-th record from the end (0: current), or false.
func (a *admin) last(i int) (record, bool) {
	a.hmu.Lock()
	defer a.hmu.Unlock()
	if i >= len(a.history) {
		return record{}, false
	}
	return a.history[len(a.history)-1-i], true
}

func (a *admin) entries() []api.HistoryEntry {
	a.hmu.Lock()
	defer a.hmu.Unlock()
	out := make([]api.HistoryEntry, len(a.history))
	for i, r := range a.history {
		out[i] = r.entry
	}
	return out
}

// adminRoutes registers /admin behind the token check.
func (s *Server) adminRoutes(r *gin.RouterGroup) {
	g := r.Group("/admin", s.adminAuth())
	getAndHead(g, "/checkpoint", s.handleCheckpointStatus)
	g.POST("/checkpoint", s.handleCheckpointSwap)
	g.POST("/rollback", s.handleRollback)
	g.POST("/fuse", s.handleFuse)
	g.POST("/heads", s.handleAddHead)
	g.DELETE("/heads/:name", s.handleRemoveHead)
}

// adminAuth enforces the Bearer token: 403 admin_disabled when none is configured, 401 when the
// header is missing or wrong. Tokens are compared as SHA-256 sums with subtle.ConstantTimeCompare,
// so the comparison time reveals neither the token nor its length.
func (s *Server) adminAuth() gin.HandlerFunc {
	want := sha256.Sum256([]byte(s.admin.opts.Token))
	return func(c *gin.Context) {
		if s.admin.opts.Token == "" {
			s.fail(c, errorf(http.StatusForbidden, CodeAdminDisabled,
				"the admin API is disabled: start the server with --admin-token (or COLDSERVE_ADMIN_TOKEN)"))
			return
		}
		h := c.GetHeader("Authorization")
		scheme, tok, ok := strings.Cut(h, " ")
		got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			c.Header("WWW-Authenticate", `Bearer realm="coldserve-admin"`)
			s.fail(c, errorf(http.StatusUnauthorized, CodeUnauthorized,
				"missing or wrong admin token: send Authorization: Bearer <token>"))
			return
		}
		id := c.GetHeader("X-Request-ID")
		if id == "" || len(id) > 128 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(requestIDKey, id)
		c.Header("X-Request-ID", id)
		c.Next()
	}
}

const requestIDKey = "coldserve.request_id"

// who fills the request id and client address of a history entry.
func who(c *gin.Context, e *api.HistoryEntry) {
	e.RequestID = c.GetString(requestIDKey)
	e.RemoteAddr = c.ClientIP()
}
