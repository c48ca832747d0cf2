package inference

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/coldserve/coldserve/encoder"
	"github.com/coldserve/coldserve/weights"
)

// candidate is a checkpoint that passed every check and may replace the served encoder.
type candidate struct {
	enc   *encoder.Encoder
	info  CheckpointInfo
	drift Drift
	rec   record
}

// candidateSpec says what to check a new main checkpoint against.
type candidateSpec struct {
	ck            *weights.Checkpoint
	info          CheckpointInfo // Source, Revision, Commit, Dir filled by the caller
	tokenizerDir  string         // directory whose tokenizer files must match the served ones ("" : none)
	expectedSHA   string
	allowGeometry bool
	rec           record // how to reload it (dir or fuse sources)
}

// prepare validates a new main checkpoint against the served model m and measures its drift:
// expected digest, geometry (unless allowed to change), the limits the server was started with,
// the heads that ride on the main encoder, tokenizer compatibility, and a probe forward pass
// that must be finite. The served model is not touched.
func (c *Core) prepare(ctx context.Context, m *served, spec candidateSpec) (*candidate, error) {
	ck := spec.ck
	digest := ck.Digest()
	if spec.expectedSHA != "" {
		if _, err := weights.MatchDigest(ck, spec.expectedSHA); err != nil {
			if _, perr := weights.ParseExpected(spec.expectedSHA); perr != nil {
				return nil, errorf(ErrInvalidInput, "%v", perr)
			}
			return nil, rejectCheckpoint(err)
		}
	}
	cur := m.main.eng.Current()
	if diff := geometryDiff(cur.Config(), ck.Config); len(diff) > 0 && !spec.allowGeometry {
		return nil, errorf(ErrGeometryChange,
			"%s has a different geometry from the served checkpoint (%s); stored vectors would become incomparable: send \"allow_geometry_change\": true to accept",
			Clip(spec.info.Source), strings.Join(diff, ", "))
	}
	if lim := ck.Config.MaxInputTokens(); lim < m.maxInputTokens {
		return nil, errorf(ErrIncompatible,
			"%s takes at most %d tokens, fewer than the served max input tokens %d", Clip(spec.info.Source), lim, m.maxInputTokens)
	}
	for _, name := range m.headNames {
		if h := m.heads[name]; h.lane == m.main && h.head.HiddenSize() != ck.Config.HiddenSize {
			return nil, errorf(ErrIncompatible,
				"head %s has width %d but %s has hidden size %d: remove the head first", name, h.head.HiddenSize(), Clip(spec.info.Source), ck.Config.HiddenSize)
		}
	}
	if c.opts.DefaultPooling == encoder.PoolPooler && !ck.HasPooler() {
		return nil, errorf(ErrIncompatible,
			"%s has no pooler weights but the default pooling is pooler", Clip(spec.info.Source))
	}
	if err := m.checkTokenizer(spec.tokenizerDir, ck.Config.VocabSize, spec.info.Source); err != nil {
		return nil, err
	}
	enc, err := encoder.NewEncoder(ck, m.encOpts)
	if err != nil {
		return nil, rejectCheckpoint(err)
	}
	ids, err := m.probeIDs()
	if err != nil {
		return nil, err
	}
	newVecs, err := probe(ctx, direct(enc), ids)
	if err != nil {
		return nil, rejectCheckpoint(err)
	}
	oldVecs, err := probe(ctx, direct(cur), ids)
	if err != nil {
		return nil, fmt.Errorf("probe the served checkpoint: %w", err)
	}
	info := spec.info
	info.ID, info.Digest = ck.ID(), digest
	fillGeometry(&info, ck)
	rec := spec.rec
	rec.entry.Checkpoint = info
	return &candidate{enc: enc, info: info, drift: measureDrift(oldVecs, newVecs), rec: rec}, nil
}

// activate swaps cand in (unless dryRun) and builds the answer. The caller holds admin.mu.
func (c *Core) activate(m *served, cand *candidate, action string, start time.Time, dryRun bool) *Activation {
	prev, _ := c.admin.last(0)
	resp := &Activation{Checkpoint: cand.info, Previous: prev.entry.Checkpoint, Drift: cand.drift, DryRun: dryRun}
	if !dryRun {
		m.main.eng.Swap(cand.enc)
		cand.rec.entry.Action = action
		cand.rec.entry.LoadedAt = time.Now().UTC()
		c.admin.push(cand.rec)
		resp.Swapped = true
		c.log.Info("checkpoint swapped", "action", action, "checkpoint", cand.info.ID, "source", cand.info.Source,
			"previous", prev.entry.Checkpoint.ID, "drift_mean_cosine", cand.drift.Mean, "drift_min_cosine", cand.drift.Min,
			"request_id", cand.rec.entry.RequestID)
	}
	resp.LoadSeconds = time.Since(start).Seconds()
	return resp
}

// checkTokenizer requires a candidate's tokenizer to tokenize like the served one: requests are
// tokenized before they are pinned to an encoder, so a swap must not change token ids. A
// directory without tokenizer files must at least have the same vocabulary size.
func (m *served) checkTokenizer(dir string, vocab int, source string) error {
	served := m.main.eng.Current().Config().VocabSize
	if vocab != served {
		return errorf(ErrIncompatible,
			"%s has a vocabulary of %d tokens, the served tokenizer %d: swapping the tokenizer needs a restart", Clip(source), vocab, served)
	}
	if dir == "" || !hasTokenizerFiles(dir) {
		return nil
	}
	tok, err := loadCodec(dir)
	if err != nil {
		return rejectCheckpoint(err)
	}
	a, errA := m.main.tok.encode(context.Background(), TextInputs(probeTexts), 0, Truncation{}, true)
	b, errB := tok.encode(context.Background(), TextInputs(probeTexts), 0, Truncation{}, true)
	if errA != nil || errB != nil {
		return fmt.Errorf("tokenize probe texts: %v, %v", errA, errB)
	}
	for i := range a {
		if !equalIDs(a[i].ids, b[i].ids) {
			return errorf(ErrIncompatible,
				"%s's tokenizer tokenizes %q differently from the served one: swapping the tokenizer needs a restart",
				Clip(source), probeTexts[i])
		}
	}
	return nil
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// probeIDs tokenizes the probe texts with the served tokenizer, within the served token limit.
func (m *served) probeIDs() ([][]int32, error) {
	encs, err := m.main.tok.encode(context.Background(), TextInputs(probeTexts), m.maxInputTokens, Truncation{}, true)
	if err != nil {
		return nil, err
	}
	ids := make([][]int32, len(encs))
	for i, e := range encs {
		ids[i] = e.ids
	}
	return ids, nil
}

// geometryDiff lists the config fields that change the shape or meaning of the vectors.
func geometryDiff(a, b weights.Config) []string {
	var out []string
	add := func(name string, x, y any) {
		if x != y {
			out = append(out, fmt.Sprintf("%s %v → %v", name, x, y))
		}
	}
	add("vocab_size", a.VocabSize, b.VocabSize)
	add("hidden_size", a.HiddenSize, b.HiddenSize)
	add("num_hidden_layers", a.NumHiddenLayers, b.NumHiddenLayers)
	add("num_attention_heads", a.NumAttentionHeads, b.NumAttentionHeads)
	add("intermediate_size", a.IntermediateSize, b.IntermediateSize)
	add("max_position_embeddings", a.MaxPositionEmbeddings, b.MaxPositionEmbeddings)
	add("type_vocab_size", a.TypeVocabSize, b.TypeVocabSize)
	add("hidden_act", a.HiddenAct, b.HiddenAct)
	add("pad_token_id", a.PadTokenID, b.PadTokenID)
	return out
}

func fillGeometry(info *CheckpointInfo, ck *weights.Checkpoint) {
	info.HiddenSize = ck.Config.HiddenSize
	info.NumLayers = ck.Config.NumHiddenLayers
	info.VocabSize = ck.Config.VocabSize
	info.HasPooler = ck.HasPooler()
}
