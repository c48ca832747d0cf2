package weights

// Config is the typed subset of a Hugging Face RoBERTa config.json that the encoder needs.
type Config struct {
	ModelType             string            `json:"model_type"`
	Architectures         []string          `json:"architectures,omitempty"`
	VocabSize             int               `json:"vocab_size"`
	HiddenSize            int               `json:"hidden_size"`
	NumHiddenLayers       int               `json:"num_hidden_layers"`
	NumAttentionHeads     int               `json:"num_attention_heads"`
	IntermediateSize      int               `json:"intermediate_size"`
	MaxPositionEmbeddings int               `json:"max_position_embeddings"`
	TypeVocabSize         int               `json:"type_vocab_size"`
	LayerNormEps          float64           `json:"layer_norm_eps"`
	PadTokenID            int               `json:"pad_token_id"`
	BosTokenID            int               `json:"bos_token_id"`
	EosTokenID            int               `json:"eos_token_id"`
	HiddenAct             string            `json:"hidden_act"`
	ID2Label              map[string]string `json:"id2label,omitempty"`
	Label2ID              map[string]int    `json:"label2id,omitempty"`
	ProblemType           string            `json:"problem_type,omitempty"`
}

// HeadDim is the width of one attention head.
func (c Config) HeadDim() int { return c.HiddenSize / c.NumAttentionHeads }

// MaxInputTokens is the longest sequence the position table allows, specials included:
// RoBERTa's position ids start at pad_token_id+1, so 514 positions give 512 tokens.
func (c Config) MaxInputTokens() int { return c.MaxPositionEmbeddings - c.PadTokenID - 1 }
