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
//	@Router			/v1/models [get]
func (s *Server) handleModels(c *gin.Context) {
	m, e := s.ready()
	if e != nil {
		s.fail(c, e)
		return
	}
	enc := m.main.eng.Current()
	cfg := enc.Config()
	info := api.ModelInfo{
		Name:              m.name,
		Checkpoint:        enc.CheckpointID(),
		HiddenSize:        cfg.HiddenSize,
		NumLayers:         cfg.NumHiddenLayers,
		NumAttentionHeads: cfg.NumAttentionHeads,
		IntermediateSize:  cfg.IntermediateSize,
		VocabSize:         cfg.VocabSize,
		MaxInputTokens:    m.maxInputTokens,
		DefaultPooling:    string(s.opts.DefaultPooling),
		HasPooler:         enc.HasPooler(),
		DType:             string(enc.DType()),
		Heads:             make([]api.HeadInfo, 0, len(m.headNames)),
	}
	for _, name := range m.headNames {
		h := m.heads[name]
		pt := h.head.ProblemType()
		if pt == "" {
			pt = "single_label_classification"
			if len(h.head.Labels()) == 1 {
				pt = "multi_label_classification"
			}
		}
		info.Heads = append(info.Heads, api.HeadInfo{
			Name:        name,
			Labels:      h.head.Labels(),
			ProblemType: pt,
			Checkpoint:  h.lane.eng.Current().CheckpointID(),
		})
	}
	s.respond(c, http.StatusOK, api.ModelsResponse{Models: []api.ModelInfo{info}})
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
	if s.active.IsRetired() {
		s.fail(c, errorf(http.StatusServiceUnavailable, CodeShuttingDown, "the server is shutting down"))
		return
	}
	if _, e := s.ready(); e != nil {
		s.fail(c, e)
		return
	}
	s.respond(c, http.StatusOK, api.StatusResponse{Status: "ready"})
}
