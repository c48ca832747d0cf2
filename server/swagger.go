package server

// The general API description below is read by swag (`make docs`) to generate docs/.

//	@title			coldserve API
//	@version		1.0
//	@description	Embeddings and classification with IBM's ColD-Fusion (a RoBERTa-base encoder), computed
//	@description	in Go with the same numbers as Hugging Face transformers. The native routes (/v1/...)
//	@description	answer errors as {"error": {"code", "message"}}; the TEI-compatible routes as TEI does,
//	@description	{"error", "error_type"}; the OpenAI-compatible ones as OpenAI does,
//	@description	{"error": {"message", "type", "param", "code"}}. With --api-key, the inference routes
//	@description	need Authorization: Bearer <key>.
//	@license.name	Apache-2.0
//	@BasePath		/

//	@securityDefinitions.apikey	APIKey
//	@in							header
//	@name						Authorization
//	@description				"Bearer <key>", one of --api-key's keys (when the server has any).
