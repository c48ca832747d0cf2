// Package tei holds the request and response types of coldserve's TEI-compatible routes, as
// Hugging Face text-embeddings-inference 1.9 defines them (router/src/http/types.rs), so TEI's
// clients (LlamaIndex, LangChain through huggingface_hub, @huggingface/inference) work
// unchanged. Fields TEI accepts and coldserve cannot honour are decoded and refused by the
// handlers with TEI's own error shape, never silently ignored.
package tei

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/coldserve/coldserve/api"
)

// Direction is api.Direction: "right" or "left", case-insensitive.
type Direction = api.Direction

// EmbedRequest is the body of POST /embed (and of POST / on an embedding model).
type EmbedRequest struct {
	// A string, a list of strings, token ids, or a list of id lists.
	Inputs api.Sequences `json:"inputs" swaggertype:"array,string" example:"What is Deep Learning?"`
	// Cut over-long inputs (default: the server's --auto-truncate, on).
	Truncate            *bool     `json:"truncate,omitempty" example:"true"`
	TruncationDirection Direction `json:"truncation_direction,omitempty" enums:"right,left" example:"right"`
	// sentence-transformers prompts are not supported: a value is refused with 422.
	PromptName *string `json:"prompt_name,omitempty"`
	// Scale to unit L2 norm (default true, as in TEI).
	Normalize *bool `json:"normalize,omitempty" example:"true"`
	// Keep the first N dimensions (Matryoshka), then normalize.
	Dimensions *int `json:"dimensions,omitempty" example:"256"`
}

// EmbedAllRequest is the body of POST /embed_all: one vector per token, specials included.
type EmbedAllRequest struct {
	Inputs              api.Sequences `json:"inputs" swaggertype:"array,string" example:"What is Deep Learning?"`
	Truncate            *bool         `json:"truncate,omitempty" example:"true"`
	TruncationDirection Direction     `json:"truncation_direction,omitempty" enums:"right,left" example:"right"`
	PromptName          *string       `json:"prompt_name,omitempty"`
}

// PredictInput is TEI's /predict input: a string, one pair ["a", "b"], or a batch of one- and
// two-string lists [["a"], ["b", "c"]]. Unlike /v1/classify, a bare two-string list is ONE
// pair, exactly as TEI reads it. Batch says whether the answer is a list of lists.
type PredictInput struct {
	Items []api.TextInput
	Batch bool
}

// UnmarshalJSON follows TEI's PredictInput visitor.
func (p *PredictInput) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	const want = "inputs must be a string, a pair of strings [string, string] or a batch of single strings and pairs [[string], [string, string], ...]"
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*p = PredictInput{Items: []api.TextInput{{A: s}}}
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || len(raw) == 0 {
		return fmt.Errorf("%s", want)
	}
	if first := bytes.TrimSpace(raw[0]); len(first) > 0 && first[0] == '"' {
		var texts []*string
		if err := json.Unmarshal(b, &texts); err != nil || len(texts) > 2 {
			return fmt.Errorf("%s", want)
		}
		item := api.TextInput{}
		for i, s := range texts {
			if s == nil {
				return fmt.Errorf("%s", want)
			}
			if i == 0 {
				item.A = *s
			} else {
				item.B, item.Pair = *s, true
			}
		}
		*p = PredictInput{Items: []api.TextInput{item}}
		return nil
	}
	items := make([]api.TextInput, len(raw))
	for i, r := range raw {
		var texts []*string
		if err := json.Unmarshal(r, &texts); err != nil || len(texts) < 1 || len(texts) > 2 || texts[0] == nil || len(texts) == 2 && texts[1] == nil {
			return fmt.Errorf("inputs[%d]: %s", i, want)
		}
		items[i] = api.TextInput{A: *texts[0]}
		if len(texts) == 2 {
			items[i].B, items[i].Pair = *texts[1], true
		}
	}
	*p = PredictInput{Items: items, Batch: true}
	return nil
}

// PredictRequest is the body of POST /predict (and of POST / on a classifier).
type PredictRequest struct {
	Inputs              PredictInput `json:"inputs" swaggertype:"array,string" example:"I like you."`
	Truncate            *bool        `json:"truncate,omitempty" example:"true"`
	TruncationDirection Direction    `json:"truncation_direction,omitempty" enums:"right,left" example:"right"`
	// Return logits instead of softmax (or sigmoid) scores.
	RawScores bool `json:"raw_scores" example:"false"`
}

// Prediction is one label of a /predict answer; an answer lists them by descending score.
type Prediction struct {
	Score float32 `json:"score" example:"0.93"`
	Label string  `json:"label" example:"positive"`
}

// RerankRequest is the body of POST /rerank: score (query, text) pairs with a cross-encoder.
type RerankRequest struct {
	Query               string    `json:"query" example:"What is Deep Learning?"`
	Texts               []string  `json:"texts" example:"Deep Learning is ..."`
	Truncate            *bool     `json:"truncate,omitempty" example:"true"`
	TruncationDirection Direction `json:"truncation_direction,omitempty" enums:"right,left" example:"right"`
	RawScores           bool      `json:"raw_scores" example:"false"`
	ReturnText          bool      `json:"return_text" example:"false"`
}

// Rank is one text of a /rerank answer, which lists them by descending score.
type Rank struct {
	Index int     `json:"index" example:"0"`
	Text  *string `json:"text,omitempty" example:"Deep Learning is ..."`
	Score float32 `json:"score" example:"0.98"`
}

// SimilarityRequest is the body of POST /similarity: cosine similarity of each sentence's
// embedding with the source sentence's.
type SimilarityRequest struct {
	Inputs     SimilarityInput       `json:"inputs"`
	Parameters *SimilarityParameters `json:"parameters,omitempty"`
}

// SimilarityInput names the sentences /similarity compares.
type SimilarityInput struct {
	SourceSentence string   `json:"source_sentence" example:"What is Deep Learning?"`
	Sentences      []string `json:"sentences" example:"What is Machine Learning?"`
}

// SimilarityParameters tune /similarity.
type SimilarityParameters struct {
	Truncate            *bool     `json:"truncate,omitempty"`
	TruncationDirection Direction `json:"truncation_direction,omitempty" enums:"right,left"`
	PromptName          *string   `json:"prompt_name,omitempty"`
}

// TokenizeRequest is the body of POST /tokenize.
type TokenizeRequest struct {
	Inputs api.Inputs `json:"inputs" swaggertype:"array,string" example:"test"`
	// Add <s> and </s> (default true).
	AddSpecialTokens *bool   `json:"add_special_tokens,omitempty" example:"true"`
	PromptName       *string `json:"prompt_name,omitempty"`
}

// SimpleToken is one token of a /tokenize answer ([[SimpleToken]]). Start and Stop are byte
// offsets into the input, as TEI gives them; null for added special tokens.
type SimpleToken struct {
	ID      int32  `json:"id" example:"0"`
	Text    string `json:"text" example:"test"`
	Special bool   `json:"special" example:"false"`
	Start   *int   `json:"start" example:"0"`
	Stop    *int   `json:"stop" example:"4"`
}

// DecodeRequest is the body of POST /decode; the answer is [string].
type DecodeRequest struct {
	IDs api.IDBatch `json:"ids" swaggertype:"array,integer" example:"0,31414,2"`
	// Drop special tokens (default true).
	SkipSpecialTokens *bool `json:"skip_special_tokens,omitempty" example:"true"`
}

// Info is the answer of GET /info: TEI's fields, plus the served checkpoint's id.
type Info struct {
	ModelID               string    `json:"model_id" example:"ibm/ColD-Fusion"`
	ModelSHA              *string   `json:"model_sha" example:"3f2a9c0d17be"`
	ModelDType            string    `json:"model_dtype" example:"float32"`
	ModelType             ModelType `json:"model_type"`
	MaxConcurrentRequests int       `json:"max_concurrent_requests" example:"512"`
	MaxInputLength        int       `json:"max_input_length" example:"512"`
	MaxBatchTokens        int       `json:"max_batch_tokens" example:"16384"`
	MaxBatchRequests      *int      `json:"max_batch_requests"`
	MaxClientBatchSize    int       `json:"max_client_batch_size" example:"64"`
	AutoTruncate          bool      `json:"auto_truncate" example:"true"`
	TokenizationWorkers   int       `json:"tokenization_workers" example:"2"`
	Version               string    `json:"version" example:"0.1.0"`
	// The served weights' id (coldserve's own field).
	Checkpoint string `json:"checkpoint" example:"sha256:3f2a9c0d17be"`
}

// ModelType is TEI's tagged union: {"embedding": {"pooling"}} or {"classifier": {...}}.
type ModelType struct {
	Embedding  *EmbeddingModel  `json:"embedding,omitempty"`
	Classifier *ClassifierModel `json:"classifier,omitempty"`
}

// EmbeddingModel says how an embedding model pools.
type EmbeddingModel struct {
	Pooling string `json:"pooling" example:"mean"`
}

// ClassifierModel lists a classifier's labels.
type ClassifierModel struct {
	ID2Label map[string]string `json:"id2label"`
	Label2ID map[string]int    `json:"label2id"`
}

// ErrorResponse is the body of every error on the TEI routes.
type ErrorResponse struct {
	Error string `json:"error" example:"Input validation error: inputs cannot be empty"`
	// Validation, Tokenizer, Overloaded, Unhealthy, Backend or Empty.
	ErrorType string `json:"error_type" example:"Validation"`
}

// TEI's error types and the statuses it answers them with.
const (
	ErrValidation = "Validation" // 422 (413 for a client batch over the limit)
	ErrTokenizer  = "Tokenizer"  // 422
	ErrOverloaded = "Overloaded" // 429
	ErrUnhealthy  = "Unhealthy"  // 503
	ErrBackend    = "Backend"    // 424 (also: the model is not a classifier)
	ErrEmpty      = "Empty"      // 400
)
