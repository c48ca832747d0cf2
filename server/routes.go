package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	swaggerFiles "github.com/swaggo/files"
	ginSwagger "github.com/swaggo/gin-swagger"

	_ "github.com/coldserve/coldserve/docs" // registers the generated OpenAPI spec with swag
	"github.com/coldserve/coldserve/inference"
)

// routes builds the gin router. gin runs in release mode: no debug route dump, no colour logs;
// requests are logged through slog by the access-log middleware instead.
func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(s.recovery(), s.observe(), s.cors(), s.guardBody())

	// Probes, metrics and docs answer during shutdown too (readyz then says 503), and need no
	// API key.
	getAndHead(r, "/healthz", s.handleHealthz)
	getAndHead(r, "/readyz", s.handleReadyz)
	getAndHead(r, "/health", s.handleTEIHealth)
	getAndHead(r, "/metrics", gin.WrapH(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})))
	getAndHead(r, "/docs", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/docs/index.html") })
	getAndHead(r, "/docs/*any", ginSwagger.WrapHandler(swaggerFiles.Handler))

	s.adminRoutes(r.Group("/", s.gate())) // its own token, not the API key

	work := r.Group("/", s.gate(), s.apiKey())
	v1 := work.Group("/v1")
	v1.POST("/embed", s.admit(inference.WorkloadEmbed), s.handleEmbed)
	v1.POST("/classify", s.admit(inference.WorkloadClassify), s.handleClassify)
	v1.POST("/rerank", s.admit(inference.WorkloadClassify), s.handleRerank)
	v1.POST("/zero-shot", s.admit(inference.WorkloadClassify), s.handleZeroShot)
	v1.POST("/tokenize", s.handleTokenize)
	v1.POST("/decode", s.handleDecode)
	getAndHead(v1, "/models", s.handleModels)
	// OpenAI's embeddings API, at both paths its clients use (base URL with or without /v1).
	for path := range openAIPaths {
		work.POST(path, s.admit(inference.WorkloadEmbed), s.handleOpenAIEmbeddings)
	}
	s.teiRoutes(work)

	r.NoRoute(s.noRoute)
	r.NoMethod(s.noMethod)
	return r
}

// getAndHead registers h for GET and HEAD: health checkers that probe with HEAD get the
// status and headers without the body (net/http drops the body of a HEAD answer).
func getAndHead(r gin.IRoutes, path string, h gin.HandlerFunc) {
	r.GET(path, h)
	r.HEAD(path, h)
}
