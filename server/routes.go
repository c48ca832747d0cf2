package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	swaggerFiles "github.com/swaggo/files"
	ginSwagger "github.com/swaggo/gin-swagger"

	_ "github.com/coldserve/coldserve/docs" // registers the generated OpenAPI spec with swag
)

// routes builds the gin router. gin runs in release mode: no debug route dump, no colour logs;
// requests are logged through slog by the access-log middleware instead.
func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(s.recovery(), s.observe(), s.limitBody())

	v1 := r.Group("/v1")
	v1.POST("/embed", s.handleEmbed)
	v1.POST("/classify", s.handleClassify)
	v1.POST("/tokenize", s.handleTokenize)
	v1.POST("/decode", s.handleDecode)
	v1.GET("/models", s.handleModels)

	s.adminRoutes(r)

	r.GET("/healthz", s.handleHealthz)
	r.GET("/readyz", s.handleReadyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})))
	r.GET("/docs", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/docs/index.html") })
	r.GET("/docs/*any", ginSwagger.WrapHandler(swaggerFiles.Handler))

	r.NoRoute(func(c *gin.Context) {
		s.fail(c, errorf(http.StatusNotFound, CodeNotFound, "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		s.fail(c, errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			"method %s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
	})
	return r
}
