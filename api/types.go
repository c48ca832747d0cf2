package api

// EmbedRequest is the body of POST /v1/embed.
type EmbedRequest struct {
	// One text or a list of texts.
	Inputs Inputs `json:"inputs" validate:"required" swaggertype:"array,string" example:"A cold fusion of models"`
	// How token vectors become one vector: mean over all tokens (specials included), the <s> row
	// (cls), HF's pooler (tanh(dense(<s>))), or none (one vector per token). Default: --pooling.
	Pooling string `json:"pooling,omitempty" enums:"mean,cls,pooler,none" example:"mean"`
	// Scale every vector to unit L2 norm.
	Normalize bool `json:"normalize" example:"false"`
	// Cut inputs longer than the model's limit (default true); false answers 422 instead.
	Truncate *bool `json:"truncate,omitempty" example:"true"`
	// Also return the tokens (always returned with pooling "none").
	ReturnTokens bool `json:"return_tokens" example:"false"`
}

// EmbedResponse is the answer of POST /v1/embed.
type EmbedResponse struct {
	Model string `json:"model" example:"ColD-Fusion"`
	// Stable id of the weights that computed these vectors.
	Checkpoint string `json:"checkpoint" example:"sha256:3f2a9c0d17be"`
	Pooling    string `json:"pooling" example:"mean"`
	Dimensions int    `json:"dimensions" example:"768"`
	// [[f32]] (one vector per input) or, with pooling "none", [[[f32]]] (one vector per token).
	Embeddings any `json:"embeddings" swaggertype:"array,number"`
	// Per input, the tokens the vectors were computed from.
	Tokens [][]Token `json:"tokens,omitempty"`
	Usage  Usage     `json:"usage"`
}

// Token is one token of a tokenized input.
type Token struct {
	ID   int32  `json:"id" example:"713"`
	Text string `json:"text" example:"Ġcold"`
	// Character span [start, end) in the input, counted in Unicode code points like Python.
	Start   int  `json:"start" example:"0"`
	End     int  `json:"end" example:"4"`
	Special bool `json:"special" example:"false"`
}

// Usage counts the tokens a request cost.
type Usage struct {
	PromptTokens int `json:"prompt_tokens" example:"12"`
	TotalTokens  int `json:"total_tokens" example:"12"`
}

// ClassifyRequest is the body of POST /v1/classify.
type ClassifyRequest struct {
	Inputs Inputs `json:"inputs" validate:"required" swaggertype:"array,string" example:"what a lovely day"`
	// Head name from GET /v1/models; optional when exactly one head is loaded.
	Head string `json:"head,omitempty" example:"sentiment"`
	// Return only the k best labels (default: all).
	TopK *int `json:"top_k,omitempty" example:"2"`
	// Return logits instead of softmax (or sigmoid) scores.
	RawScores bool `json:"raw_scores" example:"false"`
}

// ClassifyResponse is the answer of POST /v1/classify.
type ClassifyResponse struct {
	Model      string `json:"model" example:"ColD-Fusion"`
	Checkpoint string `json:"checkpoint" example:"sha256:3f2a9c0d17be"`
	Head       string `json:"head" example:"sentiment"`
	// Per input, labels sorted by descending score.
	Results [][]LabelScore `json:"results"`
}

// LabelScore is one label of a classification result.
type LabelScore struct {
	Label string  `json:"label" example:"positive"`
	Score float32 `json:"score" example:"0.93"`
}

// TokenizeRequest is the body of POST /v1/tokenize.
type TokenizeRequest struct {
	Inputs Inputs `json:"inputs" validate:"required" swaggertype:"array,string" example:"Hello world"`
	// Add <s> and </s> (default true).
	AddSpecialTokens *bool `json:"add_special_tokens,omitempty" example:"true"`
}

// TokenizeResponse is the answer of POST /v1/tokenize.
type TokenizeResponse struct {
	Tokens [][]Token `json:"tokens"`
}

// DecodeRequest is the body of POST /v1/decode.
type DecodeRequest struct {
	// One id sequence or a list of sequences.
	IDs IDBatch `json:"ids" validate:"required" swaggertype:"array,integer" example:"0,31414,232,2"`
	// Drop <s>, </s>, <pad> and other special tokens (default true).
	SkipSpecialTokens *bool `json:"skip_special_tokens,omitempty" example:"true"`
}

// DecodeResponse is the answer of POST /v1/decode.
type DecodeResponse struct {
	Texts []string `json:"texts" example:"Hello world"`
}

// ModelsResponse is the answer of GET /v1/models.
type ModelsResponse struct {
	Models []ModelInfo `json:"models"`
	// The same models as an OpenAI model listing, so OpenAI clients can list them.
	Object string        `json:"object" example:"list"`
	Data   []OpenAIModel `json:"data"`
}

// OpenAIModel is one entry of the OpenAI listing in GET /v1/models.
type OpenAIModel struct {
	ID      string `json:"id" example:"ColD-Fusion"`
	Object  string `json:"object" example:"model"`
	Created int64  `json:"created" example:"1764633600"`
	OwnedBy string `json:"owned_by" example:"coldserve"`
}

// ModelInfo describes the served encoder.
type ModelInfo struct {
	Name              string `json:"name" example:"ColD-Fusion"`
	Checkpoint        string `json:"checkpoint" example:"sha256:3f2a9c0d17be"`
	HiddenSize        int    `json:"hidden_size" example:"768"`
	NumLayers         int    `json:"num_layers" example:"12"`
	NumAttentionHeads int    `json:"num_attention_heads" example:"12"`
	IntermediateSize  int    `json:"intermediate_size" example:"3072"`
	VocabSize         int    `json:"vocab_size" example:"50265"`
	MaxInputTokens    int    `json:"max_input_tokens" example:"512"`
	DefaultPooling    string `json:"default_pooling" example:"mean"`
	HasPooler         bool   `json:"has_pooler" example:"true"`
	// The precision of the encoder's linear layers: float32, or bf16 (--dtype).
	DType string     `json:"dtype" example:"float32"`
	Heads []HeadInfo `json:"heads"`
}

// HeadInfo describes one classification head.
type HeadInfo struct {
	Name   string   `json:"name" example:"sentiment"`
	Labels []string `json:"labels" example:"negative,neutral,positive"`
	// single_label_classification (softmax) or multi_label_classification (sigmoid).
	ProblemType string `json:"problem_type" example:"single_label_classification"`
	// The encoder checkpoint this head runs on (a finetuned checkpoint brings its own encoder).
	Checkpoint string `json:"checkpoint" example:"sha256:3f2a9c0d17be"`
}

// StatusResponse is the answer of GET /healthz and GET /readyz.
type StatusResponse struct {
	Status string `json:"status" example:"ok"`
}

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody names the error with a stable machine-readable code and a human message.
type ErrorBody struct {
	Code    string `json:"code" example:"input_too_long"`
	Message string `json:"message" example:"input 0 has 700 tokens, the limit is 512"`
}
