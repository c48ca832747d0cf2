package server

import (
	"net/http"

	"github.com/coldserve/coldserve/api"
	"github.com/coldserve/coldserve/inference"
	"github.com/coldserve/coldserve/tokenizer"
)

// sequences converts the embedding routes' inputs (texts or token ids).
func sequences(in api.Sequences) []inference.Input {
	out := make([]inference.Input, len(in))
	for i, s := range in {
		if s.IsIDs() {
			out[i] = inference.IDsInput(s.IDs)
		} else {
			out[i] = inference.TextInput(s.Text)
		}
	}
	return out
}

// pairInputs converts the classification routes' inputs (texts and sentence pairs).
func pairInputs(in []api.TextInput) []inference.Input {
	out := make([]inference.Input, len(in))
	for i, t := range in {
		if t.Pair {
			out[i] = inference.PairInput(t.A, t.B)
		} else {
			out[i] = inference.TextInput(t.A)
		}
	}
	return out
}

// truncation reads a request's truncation options: truncate (default true), the direction
// (default right) and the pair strategy (default longest_first).
func truncation(truncate *bool, dir api.Direction, strategy string) (inference.Truncation, *Error) {
	t := inference.Truncation{Refuse: !boolOr(truncate, true), Side: tokenizer.SideRight}
	if dir == api.Left {
		t.Side = tokenizer.SideLeft
	}
	if strategy != "" {
		s, err := tokenizer.ParseTruncationStrategy(strategy)
		if err != nil {
			return t, errorf(http.StatusBadRequest, CodeInvalidArgument,
				"truncation_strategy %q: want longest_first, only_first or only_second", clip(strategy))
		}
		t.Strategy = s
	}
	return t, nil
}

// apiTokens converts the core's tokens to the wire type (nil stays nil: the field is omitted).
// Tokens of a sentence pair say which text they come from.
func apiTokens(in [][]inference.Token, inputs []inference.Input) [][]api.Token {
	if in == nil {
		return nil
	}
	out := make([][]api.Token, len(in))
	for i, toks := range in {
		pair := i < len(inputs) && inputs[i].Pair
		out[i] = make([]api.Token, len(toks))
		for j, t := range toks {
			out[i][j] = api.Token{ID: t.ID, Text: t.Text, Start: t.Start, End: t.End, Special: t.Special}
			if pair && t.Sequence != tokenizer.NoSequence {
				seq := t.Sequence
				out[i][j].Sequence = &seq
			}
		}
	}
	return out
}

// labelScores converts one head's ranked labels per input.
func labelScores(in [][]inference.LabelScore) [][]api.LabelScore {
	out := make([][]api.LabelScore, len(in))
	for i, ranked := range in {
		out[i] = make([]api.LabelScore, len(ranked))
		for j, ls := range ranked {
			out[i][j] = api.LabelScore(ls)
		}
	}
	return out
}

// headScores converts several heads' results, keyed by head name (nil when there are none).
func headScores(in []inference.HeadResult) map[string]api.HeadScores {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]api.HeadScores, len(in))
	for _, hr := range in {
		out[hr.Head] = api.HeadScores{Checkpoint: hr.Checkpoint, Results: labelScores(hr.Results)}
	}
	return out
}

// usage is the tokens a request cost.
func usage(st inference.Stats) api.Usage {
	return api.Usage{PromptTokens: st.Tokens, TotalTokens: st.Tokens}
}
