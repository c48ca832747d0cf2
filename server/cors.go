package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// corsMaxAge is how long a browser may cache a preflight answer, in seconds.
const corsMaxAge = "600"

// cors lets browser pages from --cors-allow-origin call the API, as TEI's
// --cors-allow-origin does: a request from an allowed Origin gets
// Access-Control-Allow-Origin, and a preflight (OPTIONS with Access-Control-Request-Method)
// is answered 204 with the methods and headers allowed, before routing and before the API key
// (browsers send no credentials in a preflight). "*" allows every origin. Without origins,
// no CORS headers are sent and browsers keep their same-origin rule.
func (s *Server) cors() gin.HandlerFunc {
	origins := s.opts.CORSAllowOrigins
	any := slices.Contains(origins, "*")
	return func(c *gin.Context) {
		origin := c.GetHeader("Origin")
		if origin == "" || len(origins) == 0 {
			c.Next()
			return
		}
		h := c.Writer.Header()
		h.Add("Vary", "Origin")
		if !any && !slices.Contains(origins, origin) {
			c.Next() // not allowed: no CORS headers, the browser refuses the answer
			return
		}
		if any {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		h.Set("Access-Control-Expose-Headers", "Retry-After, X-Request-ID, x-compute-type, x-compute-characters, "+
			"x-compute-tokens, x-total-time, x-tokenization-time, x-queue-time, x-inference-time")
		if c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, DELETE")
			allowed := "Authorization, Content-Type"
			if req := c.GetHeader("Access-Control-Request-Headers"); req != "" {
				allowed = strings.Join([]string{allowed, req}, ", ")
			}
			h.Set("Access-Control-Allow-Headers", allowed)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Next()
	}
}
