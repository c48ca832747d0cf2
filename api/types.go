package api

// EmbedRequest is the body of POST /v1/embed.
type EmbedRequest struct {
	// One text or a list of texts; token ids ([int] or [[int]], specials included) are also
	// accepted, as on TEI's /embed.
	Inputs Sequences `json:"inputs" validate:"required" swaggertype:"array,string" example:"A cold fusion of models"`
	// How token vectors become one vector: mean over all tokens (specials included), the <s> row
	// (cls), HF's pooler (tanh(dense(<s>))), or none (one vector per token). Default: --pooling.
	Pooling string `json:"pooling,omitempty" enums:"mean,cls,pooler,none" example:"mean"`
	// Scale every vector to unit L2 norm.
	Normalize bool `json:"normalize" example:"false"`
	// Keep the first N dimensions of every vector (Matryoshka truncation), normalized
	// afterwards when normalize is true. Default: all.
	Dimensions *int `json:"dimensions,omitempty" example:"256"`
	// Cut inputs longer than the model's limit (default true); false answers 422 instead.
	Truncate *bool `json:"truncate,omitempty" example:"true"`
	// Which end to cut: right (default, keeps the beginning) or left, any case.
	TruncationDirection Direction `json:"truncation_direction,omitempty" enums:"right,left" example:"right"`
	// Also return the tokens (always returned with pooling "none").
	ReturnTokens bool `json:"return_tokens" example:"false"`
	// Heads that also classify the inputs, from the same forward pass when they run on the
	// served encoder: a name, a list of names, or "*" for every head. Every label is returned.
	Classify HeadNames `json:"classify,omitempty" swaggertype:"array,string" example:"sentiment"`
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
	// With classify: per head, every input's labels by descending score.
	Classifications map[string]HeadScores `json:"classifications,omitempty"`
	Usage           Usage                 `json:"usage"`
}

// HeadScores is one head's answer for every input of a request.
type HeadScores struct {
	// The encoder checkpoint that fed the head (a finetuned checkpoint brings its own).
	Checkpoint string `json:"checkpoint" example:"sha256:3f2a9c0d17be"`
	// Per input, labels sorted by descending score.
	Results [][]LabelScore `json:"results"`
}

// Token is one token of a tokenized input.
type Token struct {
	ID   int32  `json:"id" example:"713"`
	Text string `json:"text" example:"Ġcold"`
	// Character span [start, end) in the input, counted in Unicode code points like Python.
	Start   int  `json:"start" example:"0"`
	End     int  `json:"end" example:"4"`
	Special bool `json:"special" example:"false"`
	// In a sentence pair, which text the token comes from: 0 or 1 (absent for the special
	// tokens the template adds, and for single texts). Offsets count within that text.
	Sequence *int `json:"sequence,omitempty" example:"0"`
}

// Usage counts the tokens a request cost.
type Usage struct {
	PromptTokens int `json:"prompt_tokens" example:"12"`
	TotalTokens  int `json:"total_tokens" example:"12"`
}

// ClassifyRequest is the body of POST /v1/classify.
type ClassifyRequest struct {
	// A text, or a list whose elements are texts or [text, text] sentence pairs (premise and
	// hypothesis, encoded <s> A </s></s> B </s>): [["A man eats.", "Someone eats."], "a text"].
	Inputs PairInputs `json:"inputs" validate:"required" swaggertype:"array,string" example:"what a lovely day"`
	// Head name from GET /v1/models; optional when the default head applies (--default-head,
	// the served model's own head, or the only head loaded).
	Head string `json:"head,omitempty" example:"sentiment"`
	// Several heads at once (a list of names, or "*" for every head); heads on the same
	// encoder share one forward pass. The answer then has "heads" instead of "head" and
	// "results". Not with "head".
	Heads HeadNames `json:"heads,omitempty" swaggertype:"array,string" example:"nli,sentiment"`
	// Return only the k best labels (default: all).
	TopK *int `json:"top_k,omitempty" example:"2"`
	// Return logits instead of softmax (or sigmoid) scores.
	RawScores bool `json:"raw_scores" example:"false"`
	// Cut inputs longer than the model's limit (default true); false answers 422 instead.
	Truncate *bool `json:"truncate,omitempty" example:"true"`
	// Which end to cut: right (default) or left, any case.
	TruncationDirection Direction `json:"truncation_direction,omitempty" enums:"right,left" example:"right"`
	// Which text of a pair is cut: longest_first (default), only_first or only_second, as
	// Hugging Face tokenizers do it.
	TruncationStrategy string `json:"truncation_strategy,omitempty" enums:"longest_first,only_first,only_second" example:"longest_first"`
}

// ClassifyResponse is the answer of POST /v1/classify.
type ClassifyResponse struct {
	Model string `json:"model" example:"ColD-Fusion"`
	// With "head" (or none): the head, the checkpoint that fed it and the results.
	Checkpoint string `json:"checkpoint,omitempty" example:"sha256:3f2a9c0d17be"`
	Head       string `json:"head,omitempty" example:"sentiment"`
	// Per input, labels sorted by descending score.
	Results [][]LabelScore `json:"results,omitempty"`
	// With "heads": per head name.
	Heads map[string]HeadScores `json:"heads,omitempty"`
	Usage Usage                 `json:"usage"`
}

// RerankRequest is the body of POST /v1/rerank.
type RerankRequest struct {
	Query string `json:"query" validate:"required" example:"What is ColD Fusion?"`
	// The texts to rank against the query, each scored as the pair (query, text).
	Texts Inputs `json:"texts" validate:"required" swaggertype:"array,string" example:"ColD Fusion recycles finetuned models."`
	// A cross-encoder head (default: the default head).
	Head string `json:"head,omitempty" example:"relevance"`
	// For a head of several labels, the label that means relevant (an NLI head: entailment).
	Label string `json:"label,omitempty" example:"entailment"`
	// Return the N best texts (default: all).
	TopN *int `json:"top_n,omitempty" example:"3"`
	// Also return each text.
	ReturnText bool `json:"return_text" example:"false"`
	// Rank by the logit instead of the score.
	RawScores           bool      `json:"raw_scores" example:"false"`
	Truncate            *bool     `json:"truncate,omitempty" example:"true"`
	TruncationDirection Direction `json:"truncation_direction,omitempty" enums:"right,left" example:"right"`
	TruncationStrategy  string    `json:"truncation_strategy,omitempty" enums:"longest_first,only_first,only_second" example:"longest_first"`
}

// RerankResponse is the answer of POST /v1/rerank.
type RerankResponse struct {
	Model      string `json:"model" example:"ColD-Fusion"`
	Checkpoint string `json:"checkpoint" example:"sha256:3f2a9c0d17be"`
	Head       string `json:"head" example:"relevance"`
	// The label whose score ranks (heads of several labels).
	Label string `json:"label,omitempty" example:"entailment"`
	// By descending score.
	Results []RankedText `json:"results"`
	Usage   Usage        `json:"usage"`
}

// RankedText is one text of a ranking.
type RankedText struct {
	Index int     `json:"index" example:"0"`
	Score float32 `json:"score" example:"0.91"`
	Text  *string `json:"text,omitempty" example:"ColD Fusion recycles finetuned models."`
}

// ZeroShotRequest is the body of POST /v1/zero-shot.
type ZeroShotRequest struct {
	Inputs Inputs `json:"inputs" validate:"required" swaggertype:"array,string" example:"The new phone's battery lasts two days."`
	// The labels to choose from: a list, or one string of comma-separated labels (as the
	// Hugging Face pipeline takes them).
	CandidateLabels Labels `json:"candidate_labels" validate:"required" swaggertype:"array,string" example:"technology,sports,politics"`
	// The hypothesis each label makes; "{}" is replaced by the label.
	HypothesisTemplate string `json:"hypothesis_template,omitempty" example:"This example is {}."`
	// Score each label on its own (entailment vs contradiction) instead of one distribution
	// over the labels.
	MultiLabel bool `json:"multi_label" example:"false"`
	// An NLI head (labels starting with entail... and contradict...); default: the default head.
	Head string `json:"head,omitempty" example:"nli"`
}

// ZeroShotResponse is the answer of POST /v1/zero-shot.
type ZeroShotResponse struct {
	Model      string `json:"model" example:"ColD-Fusion"`
	Checkpoint string `json:"checkpoint" example:"sha256:3f2a9c0d17be"`
	Head       string `json:"head" example:"nli"`
	// Per input, as the Hugging Face pipeline answers.
	Results []ZeroShotResult `json:"results"`
	Usage   Usage            `json:"usage"`
}

// ZeroShotResult is one input's labels by descending score.
type ZeroShotResult struct {
	Sequence string    `json:"sequence" example:"The new phone's battery lasts two days."`
	Labels   []string  `json:"labels" example:"technology,sports,politics"`
	Scores   []float32 `json:"scores" example:"0.93,0.04,0.03"`
}

// LabelScore is one label of a classification result.
type LabelScore struct {
	Label string  `json:"label" example:"positive"`
	Score float32 `json:"score" example:"0.93"`
}

// TokenizeRequest is the body of POST /v1/tokenize.
type TokenizeRequest struct {
	// A text, or a list of texts and [text, text] pairs.
	Inputs PairInputs `json:"inputs" validate:"required" swaggertype:"array,string" example:"Hello world"`
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
