package server

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/checkpoint"
)

// AdminOptions configure the admin API under /admin.
type AdminOptions struct {
	// Token is the Bearer token every admin request must carry (--admin-token). Empty disables
	// the admin API: every /admin route answers 403 admin_disabled.
	Token string
	// Sources says where checkpoints may come from (--checkpoint-root, --allow-hub): the
	// core's inference.Options.Sources.
	Sources *checkpoint.Resolver
	// Declared, when set, is the declared checkpoint (--checkpoint-file) that GET
	// /admin/checkpoint reports on.
	Declared DeclaredCheckpoint
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
// header is missing or wrong (compared in constant time, see keyring).
func (s *Server) adminAuth() gin.HandlerFunc {
	token := newKeyring(s.opts.Admin.Token)
	return func(c *gin.Context) {
		if s.opts.Admin.Token == "" {
			s.fail(c, errorf(http.StatusForbidden, CodeAdminDisabled,
				"the admin API is disabled: start the server with --admin-token (or COLDSERVE_ADMIN_TOKEN)"))
			return
		}
		if !token.matches(c.GetHeader("Authorization")) {
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
