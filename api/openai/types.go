// Package openai holds the request and response types of coldserve's OpenAI-compatible
// embeddings route (POST /v1/embeddings, POST /embeddings), as the OpenAI API and its official
// SDKs use them.
package openai

import (
	"encoding/json"
	"fmt"

	"github.com/coldserve/coldserve/api"
)

// EmbeddingsRequest is the body of POST /v1/embeddings.
type EmbeddingsRequest struct {
	// A string, a list of strings, token ids (this model's vocabulary, not tiktoken's), or a
	// list of id lists.
	Input api.Sequences `json:"input" swaggertype:"array,string" example:"The food was delicious"`
	// Accepted; a name other than the served model's is logged and served anyway.
	Model string `json:"model" example:"ColD-Fusion"`
	// float or base64 (little-endian float32 bytes). The OpenAI SDKs send base64 when the
	// caller leaves it unset, so it is not a rarity: it is the default traffic.
	EncodingFormat string `json:"encoding_format,omitempty" enums:"float,base64" example:"float"`
	// Keep the first N dimensions, then normalize.
	Dimensions *int   `json:"dimensions,omitempty" example:"256"`
	User       string `json:"user,omitempty"`
}

// EmbeddingsResponse is the answer of POST /v1/embeddings.
type EmbeddingsResponse struct {
	Object string      `json:"object" example:"list"`
	Data   []Embedding `json:"data"`
	Model  string      `json:"model" example:"ColD-Fusion"`
	Usage  Usage       `json:"usage"`
}

// Embedding is one vector of an EmbeddingsResponse.
type Embedding struct {
	Object string `json:"object" example:"embedding"`
	// [f32], or with encoding_format base64 a string of little-endian float32 bytes.
	Embedding json.RawMessage `json:"embedding" swaggertype:"array,number"`
	Index     int             `json:"index" example:"0"`
}

// Usage counts the tokens of a request.
type Usage struct {
	PromptTokens int `json:"prompt_tokens" example:"8"`
	TotalTokens  int `json:"total_tokens" example:"8"`
}

// ErrorResponse is the body of every error on the OpenAI routes.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is OpenAI's error object.
type ErrorBody struct {
	Message string  `json:"message" example:"input must not be empty"`
	Type    string  `json:"type" example:"invalid_request_error"`
	Param   *string `json:"param" example:"input"`
	Code    *string `json:"code" example:"invalid_input"`
}

// Format is a parsed encoding_format.
type Format int

const (
	Float Format = iota
	Base64
)

// ParseFormat reads encoding_format: "" and "float" are Float, "base64" Base64.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "", "float":
		return Float, nil
	case "base64":
		return Base64, nil
	}
	return 0, fmt.Errorf("encoding_format %.40q: want float or base64", s)
}
