package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api"
)

// handleModels answers GET /v1/models.
//
//	@Summary		Describe the served model
//	@Description	Name, checkpoint id, geometry, limits, default pooling and the classification heads
//	@Description	with their labels.
//	@Tags			meta
//	@Produce		json
//	@Success		200	{object}	api.ModelsResponse
//	@Failure		503	{object}	api.ErrorResponse	"model not loaded yet"
//	@Security		APIKey
//	@Router			/v1/models [get]
func (s *Server) handleModels(c *gin.Context) {
	m, err := s.core.Model()
	if err != nil {
		s.fail(c, httpError(err))
		return
	}
	info := api.ModelInfo{
		Name:              m.Name,
		Checkpoint:        m.Checkpoint,
		HiddenSize:        m.Config.HiddenSize,
		NumLayers:         m.Config.NumHiddenLayers,
		NumAttentionHeads: m.Config.NumAttentionHeads,
		IntermediateSize:  m.Config.IntermediateSize,
		VocabSize:         m.Config.VocabSize,
		MaxInputTokens:    m.MaxInputTokens,
		DefaultPooling:    string(m.DefaultPooling),
		HasPooler:         m.HasPooler,
		DType:             string(m.DType),
		Heads:             make([]api.HeadInfo, len(m.Heads)),
	}
	for i, h := range m.Heads {
		info.Heads[i] = api.HeadInfo(h)
	}
	s.respond(c, http.StatusOK, api.ModelsResponse{Models: []api.ModelInfo{info}, Object: "list",
		Data: []api.OpenAIModel{{ID: m.Name, Object: "model", Created: s.started.Unix(), OwnedBy: "coldserve"}}})
}

// handleHealthz answers GET /healthz: the process is alive (whether or not a model is loaded).
//
//	@Summary	Liveness probe
//	@Tags		meta
//	@Produce	json
//	@Success	200	{object}	api.StatusResponse
//	@Router		/healthz [get]
func (s *Server) handleHealthz(c *gin.Context) {
	s.respond(c, http.StatusOK, api.StatusResponse{Status: "ok"})
}

// handleReadyz answers GET /readyz: 200 once a model is loaded and its probe forward pass passed,
// 503 before that and while shutting down.
//
//	@Summary	Readiness probe
//	@Tags		meta
//	@Produce	json
//	@Success	200	{object}	api.StatusResponse
//	@Failure	503	{object}	api.ErrorResponse	"not ready or shutting down"
//	@Router		/readyz [get]
func (s *Server) handleReadyz(c *gin.Context) {
	if e := s.readiness(); e != nil {
		s.fail(c, e)
		return
	}
	s.respond(c, http.StatusOK, api.StatusResponse{Status: "ready"})
}

// readiness is nil once a model serves and the server is not draining, else the 503 to answer.
func (s *Server) readiness() *Error {
	if s.active.IsRetired() {
		return errorf(http.StatusServiceUnavailable, CodeShuttingDown, "the server is shutting down")
	}
	if err := s.core.Ready(); err != nil {
		return httpError(err)
	}
	return nil
}
