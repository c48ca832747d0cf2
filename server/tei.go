package server

import (
	"context"
	"errors"
	"math"
	"net/http"
	"runtime"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/coldserve/coldserve/api/tei"
	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/tokenizer"
)

// The routes of Hugging Face text-embeddings-inference (TEI) 1.9, in its wire format, errors
// included, so TEI's clients (LlamaIndex, LangChain through huggingface_hub,
//	@huggingface/inference)	work unchanged. Each handler binds TEI's request, calls the same
// core as the native routes and shapes TEI's answer.

// teiPaths are the routes that answer in TEI's wire format, errors included.
var teiPaths = map[string]bool{"/embed": true, "/embed_all": true, "/predict": true, "/rerank": true,
	"/similarity": true, "/tokenize": true, "/decode": true, "/info": true, "/health": true, "/": true, "/invocations": true}

// teiRoutes registers TEI's routes on work (the group behind the shutdown gate and the API
// key); GET /health is a probe and is registered open, beside /healthz.
func (s *Server) teiRoutes(work *gin.RouterGroup) {
	work.POST("/embed", s.admit(inference.WorkloadEmbed), s.handleTEIEmbed)
	work.POST("/embed_all", s.admit(inference.WorkloadEmbed), s.handleTEIEmbedAll)
	work.POST("/predict", s.admit(inference.WorkloadClassify), s.handleTEIPredict)
	work.POST("/rerank", s.admit(inference.WorkloadClassify), s.handleTEIRerank)
	work.POST("/similarity", s.admit(inference.WorkloadEmbed), s.handleTEISimilarity)
	work.POST("/tokenize", s.handleTEITokenize)
	work.POST("/decode", s.handleTEIDecode)
	getAndHead(work, "/info", s.handleTEIInfo)
	// POST / (and SageMaker's /invocations) answer as the model's type says: a classifier
	// predicts, an embedding model embeds. Clients that post to an endpoint URL rely on it.
	for _, path := range []string{"/", "/invocations"} {
		work.POST(path, s.admitRoot(), s.handleTEIRoot)
	}
}

// teiError is e in TEI's shape and with TEI's status: validation 422 (413 for a request over
// a size limit), empty 400, overloaded 429, unhealthy 503, and backend 424, which is also
// what a classification route answers when the model has no (default) head.
func teiError(e *Error) (int, tei.ErrorResponse) {
	typ, status := tei.ErrValidation, e.Status
	switch {
	case e.Status == http.StatusRequestEntityTooLarge:
	case e.Code == CodeEmptyInput || e.Code == CodeEmptyBody:
		typ, status = tei.ErrEmpty, http.StatusBadRequest
	case e.Code == CodeUnknownHead || e.Code == CodeMissingHead:
		typ, status = tei.ErrBackend, http.StatusFailedDependency
	case e.Status == http.StatusTooManyRequests:
		typ = tei.ErrOverloaded
	case e.Status == http.StatusServiceUnavailable:
		typ = tei.ErrUnhealthy
	case e.Status == http.StatusUnauthorized:
		typ = "Unauthorized"
	case e.Status >= 500 || e.Status == http.StatusFailedDependency:
		typ = tei.ErrBackend
	case e.Status == http.StatusBadRequest:
		status = http.StatusUnprocessableEntity // TEI's validation errors are 422
	}
	return status, tei.ErrorResponse{Error: inference.ClipN(e.Message, maxMessageBytes), ErrorType: typ}
}

// errPromptName refuses sentence-transformers prompts, which coldserve does not serve.
var errPromptName = errorf(http.StatusUnprocessableEntity, CodeInvalidArgument,
	"prompt_name is not supported: coldserve serves no sentence-transformers prompts; prepend the prompt to the input instead")

// teiTruncation reads TEI's truncate (default: auto-truncate, which is on) and direction.
func teiTruncation(truncate *bool, dir tei.Direction) inference.Truncation {
	t, _ := truncation(truncate, dir, "") // no strategy name: never fails
	return t
}

// handleTEIEmbed answers POST /embed.
//
//	@Summary		Embed (TEI-compatible)
//	@Description	Text-Embeddings-Inference's /embed: pooled vectors ([[f32]]), normalized by default.
//	@Description	inputs may be a string, a list of strings, token ids or a list of id lists.
//	@Tags			tei
//	@Accept			json
//	@Produce		json
//	@Param			request	body		tei.EmbedRequest	true	"inputs and options"
//	@Success		200		{array}		[]float32
//	@Failure		400		{object}	tei.ErrorResponse	"empty inputs"
//	@Failure		413		{object}	tei.ErrorResponse	"too many inputs or tokens, body too large"
//	@Failure		422		{object}	tei.ErrorResponse	"validation: malformed JSON, bad dimensions, prompt_name, input too long without truncation"
//	@Failure		429		{object}	tei.ErrorResponse	"overloaded"
//	@Failure		503		{object}	tei.ErrorResponse	"unhealthy: loading or shutting down"
//	@Security		APIKey
//	@Router			/embed [post]
func (s *Server) handleTEIEmbed(c *gin.Context) {
	s.serveInference(c, func(ctx context.Context, res *inference.Reservation) (int, any, *inference.Stats, error) {
		var req tei.EmbedRequest
		if e := bindLenient(c, &req); e != nil {
			return 0, nil, nil, e
		}
		if req.PromptName != nil {
			return 0, nil, nil, errPromptName
		}
		out, err := s.core.Embed(ctx, inference.EmbedRequest{Inputs: sequences(req.Inputs), Normalize: boolOr(req.Normalize, true),
			Dimensions: req.Dimensions, Truncation: teiTruncation(req.Truncate, req.TruncationDirection), Reserved: res})
		if err != nil {
			return len(req.Inputs), nil, nil, err
		}
		return len(req.Inputs), out.Vectors, &out.Stats, nil
	})
}

// handleTEIEmbedAll answers POST /embed_all.
//
//	@Summary		Every token's vector (TEI-compatible)
//	@Description	Text-Embeddings-Inference's /embed_all: [[[f32]]], one row per token, special tokens included.
//	@Tags			tei
//	@Accept			json
//	@Produce		json
//	@Param			request	body		tei.EmbedAllRequest	true	"inputs and options"
//	@Success		200		{array}		[][]float32
//	@Failure		400		{object}	tei.ErrorResponse	"empty inputs"
//	@Failure		413		{object}	tei.ErrorResponse	"too many inputs or tokens, body too large"
//	@Failure		422		{object}	tei.ErrorResponse	"validation"
//	@Failure		429		{object}	tei.ErrorResponse	"overloaded"
//	@Failure		503		{object}	tei.ErrorResponse	"unhealthy"
//	@Security		APIKey
//	@Router			/embed_all [post]
func (s *Server) handleTEIEmbedAll(c *gin.Context) {
	s.serveInference(c, func(ctx context.Context, res *inference.Reservation) (int, any, *inference.Stats, error) {
		var req tei.EmbedAllRequest
		if e := bindLenient(c, &req); e != nil {
			return 0, nil, nil, e
		}
		if req.PromptName != nil {
			return 0, nil, nil, errPromptName
		}
		out, err := s.core.Embed(ctx, inference.EmbedRequest{Inputs: sequences(req.Inputs), Pooling: "none",
			Truncation: teiTruncation(req.Truncate, req.TruncationDirection), Reserved: res})
		if err != nil {
			return len(req.Inputs), nil, nil, err
		}
		return len(req.Inputs), out.TokenVectors, &out.Stats, nil
	})
}

// handleTEIPredict answers POST /predict.
//
//	@Summary		Classify (TEI-compatible)
//	@Description	Text-Embeddings-Inference's /predict on the default head (--default-head, else the
//	@Description	served model's own head, else the only head): inputs is a string, one pair [a, b], or a
//	@Description	batch of strings and pairs; the answer lists every label by descending score (a list of
//	@Description	such lists for a batch). 424 when no head applies.
//	@Tags			tei
//	@Accept			json
//	@Produce		json
//	@Param			request	body		tei.PredictRequest	true	"inputs and options"
//	@Success		200		{array}		tei.Prediction
//	@Failure		400		{object}	tei.ErrorResponse	"empty inputs"
//	@Failure		413		{object}	tei.ErrorResponse	"too many inputs or tokens"
//	@Failure		422		{object}	tei.ErrorResponse	"validation"
//	@Failure		424		{object}	tei.ErrorResponse	"the model is not a classifier (no default head)"
//	@Failure		429		{object}	tei.ErrorResponse	"overloaded"
//	@Failure		503		{object}	tei.ErrorResponse	"unhealthy"
//	@Security		APIKey
//	@Router			/predict [post]
func (s *Server) handleTEIPredict(c *gin.Context) {
	s.serveInference(c, func(ctx context.Context, res *inference.Reservation) (int, any, *inference.Stats, error) {
		var req tei.PredictRequest
		if e := bindLenient(c, &req); e != nil {
			return 0, nil, nil, e
		}
		return s.teiPredict(ctx, res, req)
	})
}

func (s *Server) teiPredict(ctx context.Context, res *inference.Reservation, req tei.PredictRequest) (int, any, *inference.Stats, error) {
	out, err := s.core.Classify(ctx, inference.ClassifyRequest{Inputs: pairInputs(req.Inputs.Items), RawScores: req.RawScores,
		Truncation: teiTruncation(req.Truncate, req.TruncationDirection), Reserved: res})
	if err != nil {
		return len(req.Inputs.Items), nil, nil, notAClassifier(err)
	}
	preds := make([][]tei.Prediction, len(out.Heads[0].Results))
	for i, ranked := range out.Heads[0].Results {
		preds[i] = make([]tei.Prediction, len(ranked))
		for j, ls := range ranked {
			preds[i][j] = tei.Prediction{Score: ls.Score, Label: ls.Label}
		}
	}
	if req.Inputs.Batch {
		return len(preds), preds, &out.Stats, nil
	}
	return 1, preds[0], &out.Stats, nil
}

// notAClassifier says, as TEI does with 424, that a classification route has no head to run.
func notAClassifier(err error) error {
	if errors.Is(err, inference.ErrUnknownHead) || errors.Is(err, inference.ErrMissingHead) {
		return errorf(http.StatusFailedDependency, CodeUnknownHead,
			"model is not a classifier: %v (--default-head chooses one)", err)
	}
	return err
}

// handleTEIRerank answers POST /rerank.
//
//	@Summary		Rerank (TEI-compatible)
//	@Description	Text-Embeddings-Inference's /rerank: scores (query, text) pairs with the default head,
//	@Description	which must have one label (a cross-encoder; its score is the sigmoid of the logit), and
//	@Description	returns [{index, score, text?}] by descending score. /v1/rerank also takes heads of
//	@Description	several labels.
//	@Tags			tei
//	@Accept			json
//	@Produce		json
//	@Param			request	body		tei.RerankRequest	true	"query, texts and options"
//	@Success		200		{array}		tei.Rank
//	@Failure		400		{object}	tei.ErrorResponse	"empty texts"
//	@Failure		413		{object}	tei.ErrorResponse	"too many texts or tokens"
//	@Failure		422		{object}	tei.ErrorResponse	"validation"
//	@Failure		424		{object}	tei.ErrorResponse	"the model is not a re-ranker (no one-label default head)"
//	@Failure		429		{object}	tei.ErrorResponse	"overloaded"
//	@Failure		503		{object}	tei.ErrorResponse	"unhealthy"
//	@Security		APIKey
//	@Router			/rerank [post]
func (s *Server) handleTEIRerank(c *gin.Context) {
	s.serveInference(c, func(ctx context.Context, res *inference.Reservation) (int, any, *inference.Stats, error) {
		var req tei.RerankRequest
		if e := bindLenient(c, &req); e != nil {
			return 0, nil, nil, e
		}
		head, err := s.core.DefaultHead()
		if err != nil {
			return 0, nil, nil, notAClassifier(err)
		}
		if len(head.Labels) != 1 {
			return 0, nil, nil, errorf(http.StatusFailedDependency, CodeIncompatible,
				"model is not a re-ranker: the default head %s has %d labels, /rerank needs one; POST /v1/rerank names the relevant label", head.Name, len(head.Labels))
		}
		out, err := s.core.Rerank(ctx, inference.RerankRequest{Query: req.Query, Texts: req.Texts, Head: head.Name,
			RawScores: req.RawScores, Truncation: teiTruncation(req.Truncate, req.TruncationDirection), Reserved: res})
		if err != nil {
			return len(req.Texts), nil, nil, err
		}
		ranks := make([]tei.Rank, len(out.Ranks))
		for i, r := range out.Ranks {
			ranks[i] = tei.Rank{Index: r.Index, Score: r.Score}
			if req.ReturnText {
				ranks[i].Text = &req.Texts[r.Index]
			}
		}
		return len(req.Texts), ranks, &out.Stats, nil
	})
}

// handleTEISimilarity answers POST /similarity.
//
//	@Summary		Sentence similarity (TEI-compatible)
//	@Description	Text-Embeddings-Inference's /similarity: the cosine similarity of each sentence's
//	@Description	embedding with the source sentence's, [f32]. All are embedded in one request.
//	@Tags			tei
//	@Accept			json
//	@Produce		json
//	@Param			request	body		tei.SimilarityRequest	true	"source sentence, sentences and options"
//	@Success		200		{array}		float32
//	@Failure		400		{object}	tei.ErrorResponse	"no sentences"
//	@Failure		413		{object}	tei.ErrorResponse	"too many sentences or tokens"
//	@Failure		422		{object}	tei.ErrorResponse	"validation"
//	@Failure		429		{object}	tei.ErrorResponse	"overloaded"
//	@Failure		503		{object}	tei.ErrorResponse	"unhealthy"
//	@Security		APIKey
//	@Router			/similarity [post]
func (s *Server) handleTEISimilarity(c *gin.Context) {
	s.serveInference(c, func(ctx context.Context, res *inference.Reservation) (int, any, *inference.Stats, error) {
		var req tei.SimilarityRequest
		if e := bindLenient(c, &req); e != nil {
			return 0, nil, nil, e
		}
		var p tei.SimilarityParameters
		if req.Parameters != nil {
			p = *req.Parameters
		}
		if p.PromptName != nil {
			return 0, nil, nil, errPromptName
		}
		if len(req.Inputs.Sentences) == 0 {
			return 0, nil, nil, errorf(http.StatusBadRequest, CodeEmptyInput, "inputs.sentences is empty: send at least one sentence")
		}
		texts := append([]string{req.Inputs.SourceSentence}, req.Inputs.Sentences...)
		out, err := s.core.Embed(ctx, inference.EmbedRequest{Inputs: inference.TextInputs(texts), Normalize: true,
			Truncation: teiTruncation(p.Truncate, p.TruncationDirection), Reserved: res})
		if err != nil {
			return len(texts), nil, nil, err
		}
		sims := make([]float32, len(req.Inputs.Sentences))
		for i, v := range out.Vectors[1:] {
			sims[i] = cosine(out.Vectors[0], v)
		}
		return len(texts), sims, &out.Stats, nil
	})
}

// cosine is the cosine similarity of a and b, in float64.
func cosine(a, b []float32) float32 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return float32(dot / math.Sqrt(na*nb))
}

// handleTEITokenize answers POST /tokenize.
//
//	@Summary		Tokenize (TEI-compatible)
//	@Description	Text-Embeddings-Inference's /tokenize: [[{id, text, special, start, stop}]]. start and
//	@Description	stop are byte offsets into the input and text is that span of it; the special tokens the
//	@Description	template adds have their token text and null offsets.
//	@Tags			tei
//	@Accept			json
//	@Produce		json
//	@Param			request	body		tei.TokenizeRequest	true	"inputs"
//	@Success		200		{array}		[]tei.SimpleToken
//	@Failure		400		{object}	tei.ErrorResponse	"empty inputs"
//	@Failure		413		{object}	tei.ErrorResponse	"too many inputs"
//	@Failure		422		{object}	tei.ErrorResponse	"validation"
//	@Failure		503		{object}	tei.ErrorResponse	"unhealthy"
//	@Security		APIKey
//	@Router			/tokenize [post]
func (s *Server) handleTEITokenize(c *gin.Context) {
	serveTokenizer(s, c, bindLenient, func(req *tei.TokenizeRequest) (any, error) {
		if req.PromptName != nil {
			return nil, errPromptName
		}
		toks, err := s.core.Tokenize(inference.TextInputs(req.Inputs), boolOr(req.AddSpecialTokens, true))
		if err != nil {
			return nil, err
		}
		out := make([][]tei.SimpleToken, len(toks))
		for i, seq := range toks {
			out[i] = simpleTokens(req.Inputs[i], seq)
		}
		return out, nil
	})
}

// simpleTokens renders one input's tokens as TEI does: the tokens the template adds are special,
// with their token text and no offsets; every other token has its byte span of the input and
// the text of that span.
func simpleTokens(input string, toks []inference.Token) []tei.SimpleToken {
	// Token offsets count code points; TEI's count bytes.
	byteAt := make([]int, 0, len(input)+1)
	for i := range input {
		byteAt = append(byteAt, i)
	}
	byteAt = append(byteAt, len(input))
	at := func(cp int) int { return byteAt[min(cp, len(byteAt)-1)] }
	out := make([]tei.SimpleToken, len(toks))
	for j, t := range toks {
		out[j] = tei.SimpleToken{ID: t.ID, Text: t.Text, Special: t.Sequence == tokenizer.NoSequence}
		if !out[j].Special {
			start, stop := at(t.Start), at(t.End)
			out[j].Start, out[j].Stop, out[j].Text = &start, &stop, input[start:stop]
		}
	}
	return out
}

// handleTEIDecode answers POST /decode.
//
//	@Summary		Decode (TEI-compatible)
//	@Description	Text-Embeddings-Inference's /decode: one id sequence or a list of them, to [string].
//	@Tags			tei
//	@Accept			json
//	@Produce		json
//	@Param			request	body		tei.DecodeRequest	true	"ids"
//	@Success		200		{array}		string
//	@Failure		400		{object}	tei.ErrorResponse	"empty ids"
//	@Failure		413		{object}	tei.ErrorResponse	"too many sequences"
//	@Failure		422		{object}	tei.ErrorResponse	"validation: an id outside the vocabulary"
//	@Failure		503		{object}	tei.ErrorResponse	"unhealthy"
//	@Security		APIKey
//	@Router			/decode [post]
func (s *Server) handleTEIDecode(c *gin.Context) {
	serveTokenizer(s, c, bindLenient, func(req *tei.DecodeRequest) (any, error) {
		return s.core.Decode(req.IDs, boolOr(req.SkipSpecialTokens, true))
	})
}

// handleTEIInfo answers GET /info.
//
//	@Summary		Model info (TEI-compatible)
//	@Description	Text-Embeddings-Inference's /info, plus the served checkpoint's id. model_type is
//	@Description	classifier when the served checkpoint has its own head or --default-head names one
//	@Description	(with its labels), else embedding.
//	@Tags			tei
//	@Produce		json
//	@Success		200	{object}	tei.Info
//	@Failure		503	{object}	tei.ErrorResponse	"unhealthy: loading"
//	@Security		APIKey
//	@Router			/info [get]
func (s *Server) handleTEIInfo(c *gin.Context) {
	m, err := s.core.Model()
	if err != nil {
		s.fail(c, httpError(err))
		return
	}
	current, _, err := s.core.History()
	if err != nil {
		s.fail(c, httpError(err))
		return
	}
	info := tei.Info{
		ModelID:               current.Source,
		ModelDType:            teiDType(string(m.DType)),
		MaxConcurrentRequests: s.opts.MaxConcurrentRequests,
		MaxInputLength:        m.MaxInputTokens,
		MaxBatchTokens:        m.MaxBatchTokens,
		MaxClientBatchSize:    s.core.Options().MaxClientBatch,
		AutoTruncate:          true,
		TokenizationWorkers:   runtime.GOMAXPROCS(0),
		Version:               s.opts.Version,
		Checkpoint:            m.Checkpoint,
	}
	if current.Commit != "" {
		info.ModelSHA = &current.Commit
	}
	if head, ok := s.classifierHead(); ok {
		cm := &tei.ClassifierModel{ID2Label: map[string]string{}, Label2ID: map[string]int{}}
		for i, l := range head.Labels {
			cm.ID2Label[strconv.Itoa(i)], cm.Label2ID[l] = l, i
		}
		info.ModelType.Classifier = cm
	} else {
		info.ModelType.Embedding = &tei.EmbeddingModel{Pooling: string(m.DefaultPooling)}
	}
	s.respond(c, http.StatusOK, info)
}

// teiDType names a dtype as TEI does.
func teiDType(d string) string {
	if d == "bf16" {
		return "bfloat16"
	}
	return d
}

// handleTEIHealth answers GET /health: 200 with no body once the model serves, 503 while it
// loads and while the server drains.
//
//	@Summary	Health (TEI-compatible)
//	@Tags		tei
//	@Success	200
//	@Failure	503	{object}	tei.ErrorResponse	"unhealthy: loading or shutting down"
//	@Router		/health [get]
func (s *Server) handleTEIHealth(c *gin.Context) {
	if e := s.readiness(); e != nil {
		s.fail(c, e)
		return
	}
	c.Status(http.StatusOK)
}

// classifierHead is the head that makes the served model a classifier in TEI's sense, for
// /info and POST /: the served checkpoint's own head, or the head --default-head names. A plain
// encoder with heads added beside it stays an embedding model (its clients embed through
// POST /), though /predict runs its only head.
func (s *Server) classifierHead() (inference.HeadInfo, bool) {
	m, err := s.core.Model()
	if err != nil || (m.OwnHead == "" && s.opts.DefaultHead == "") {
		return inference.HeadInfo{}, false
	}
	h, err := s.core.DefaultHead()
	return h, err == nil
}

// handleTEIRoot answers POST / and POST /invocations as the model's type says: /predict for a
// classifier (see classifierHead), else /embed, as TEI dispatches them.
//
//	@Summary		Embed or classify by model type (TEI-compatible)
//	@Description	POST / is /predict when the model is a classifier (its own head, or --default-head), else /embed.
//	@Description	Clients that post {"inputs": [...]} to an endpoint URL (huggingface_hub,
//	@Description	@huggingface/inference featureExtraction) use it.
//	@Tags			tei
//	@Accept			json
//	@Produce		json
//	@Param			request	body		tei.EmbedRequest	true	"inputs and options (a tei.PredictRequest for a classifier)"
//	@Success		200		{array}		[]float32
//	@Failure		422		{object}	tei.ErrorResponse	"validation"
//	@Failure		429		{object}	tei.ErrorResponse	"overloaded"
//	@Failure		503		{object}	tei.ErrorResponse	"unhealthy"
//	@Security		APIKey
//	@Router			/ [post]
//	@Router			/invocations [post]
func (s *Server) handleTEIRoot(c *gin.Context) {
	if _, ok := s.classifierHead(); ok {
		s.handleTEIPredict(c)
		return
	}
	s.handleTEIEmbed(c)
}

// admitRoot is admit for POST /: the queue it reserves in is the one the model type sends
// the request to.
func (s *Server) admitRoot() gin.HandlerFunc {
	embed, classify := s.admit(inference.WorkloadEmbed), s.admit(inference.WorkloadClassify)
	return func(c *gin.Context) {
		if _, ok := s.classifierHead(); ok {
			classify(c)
			return
		}
		embed(c)
	}
}
