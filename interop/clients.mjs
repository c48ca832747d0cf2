// The real client libraries against a running coldserve, as their users call them. Prints one
// JSON object with what each client returned; cmd/coldserve's TestClientInterop starts the
// server, runs this script and checks the vectors against Hugging Face's goldens.
//
//   COLDSERVE_URL=http://127.0.0.1:8080 COLDSERVE_API_KEY=... node clients.mjs "text a" "text b"
import OpenAI from "openai";
import { InferenceClient } from "@huggingface/inference";

const url = process.env.COLDSERVE_URL;
const key = process.env.COLDSERVE_API_KEY;
const texts = process.argv.slice(2);
if (!url || !key || texts.length === 0) {
  console.error("usage: COLDSERVE_URL=... COLDSERVE_API_KEY=... node clients.mjs TEXT...");
  process.exit(2);
}

const out = {};
const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });

// The SDK's default: it asks for base64 and decodes it itself.
const byDefault = await openai.embeddings.create({ model: "coldserve", input: texts });
out.openai_default = byDefault.data.map((d) => Array.from(d.embedding));
out.openai_usage = byDefault.usage;

const asFloat = await openai.embeddings.create({ model: "coldserve", input: texts, encoding_format: "float" });
out.openai_float = asFloat.data.map((d) => d.embedding);

// @huggingface/inference posts {"inputs": [...]} to the endpoint URL itself (TEI's POST /).
const hf = new InferenceClient(key);
out.hf_feature_extraction = await hf.featureExtraction({ endpointUrl: url, inputs: texts });

// A wrong key must be refused, and the SDK must see it as an authentication error.
try {
  const wrong = new OpenAI({ baseURL: `${url}/v1`, apiKey: "not-the-key", maxRetries: 0 });
  await wrong.embeddings.create({ model: "coldserve", input: texts });
  out.wrong_key = { refused: false };
} catch (err) {
  out.wrong_key = { refused: true, status: err.status, name: err.constructor.name };
}
try {
  const wrongHF = new InferenceClient("not-the-key");
  await wrongHF.featureExtraction({ endpointUrl: url, inputs: texts });
  out.wrong_key_hf = { refused: false };
} catch (err) {
  out.wrong_key_hf = { refused: true, status: err.httpResponse?.status ?? null, message: String(err.message).slice(0, 200) };
}

console.log(JSON.stringify(out));
