package server

// The general API description below is read by swag (`make docs`) to generate docs/.

//	@title			coldserve API
//	@version		1.0
//	@description	Embeddings and classification with IBM's ColD-Fusion (a RoBERTa-base encoder), computed
//	@description	in Go with the same numbers as Hugging Face transformers. Errors are always
//	@description	{"error": {"code", "message"}}.
//	@license.name	Apache-2.0
//	@BasePath		/
