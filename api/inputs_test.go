package api

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestInputsUnmarshal(t *testing.T) {
	tests := []struct {
		in      string
		want    Inputs
		wantErr bool
	}{
		{`"one"`, Inputs{"one"}, false},
		{`""`, Inputs{""}, false},
		{`["a", "b"]`, Inputs{"a", "b"}, false},
		{`[]`, Inputs{}, false},
		{`null`, nil, false},
		{`5`, nil, true},
		{`{"a": 1}`, nil, true},
		{`["a", 1]`, nil, true},
		{`[["a"]]`, nil, true},
		{`true`, nil, true},
		{`["a", null]`, nil, true}, // encoding/json alone would make the null ""
		{`[null]`, nil, true},
	}
	for _, tt := range tests {
		var req struct {
			Inputs Inputs `json:"inputs"`
		}
		err := json.Unmarshal([]byte(`{"inputs": `+tt.in+`}`), &req)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !reflect.DeepEqual(req.Inputs, tt.want) {
			t.Errorf("%s: got %#v, want %#v", tt.in, req.Inputs, tt.want)
		}
	}
}

func TestIDBatchUnmarshal(t *testing.T) {
	tests := []struct {
		in      string
		want    IDBatch
		wantErr bool
	}{
		{`[0, 713, 2]`, IDBatch{{0, 713, 2}}, false},
		{`[[0, 2], [0, 713, 2]]`, IDBatch{{0, 2}, {0, 713, 2}}, false},
		{`[[]]`, IDBatch{{}}, false},
		{`[]`, IDBatch{}, false},
		{`null`, nil, false},
		{`[-1]`, IDBatch{{-1}}, false}, // range is the tokenizer's business
		{`[1.5]`, nil, true},
		{`[4294967296]`, nil, true},
		{`[[1], 2]`, nil, true},
		{`[1, [2]]`, nil, true},
		{`"0 1 2"`, nil, true},
		{`[["a"]]`, nil, true},
		{`[0, null]`, nil, true}, // encoding/json alone would make the null 0
		{`[[0], null]`, nil, true},
		{`[[0, null]]`, nil, true},
		{`[null]`, nil, true},
	}
	for _, tt := range tests {
		var req struct {
			IDs IDBatch `json:"ids"`
		}
		err := json.Unmarshal([]byte(`{"ids": `+tt.in+`}`), &req)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if !tt.wantErr && !reflect.DeepEqual(req.IDs, tt.want) {
			t.Errorf("%s: got %#v, want %#v", tt.in, req.IDs, tt.want)
		}
	}
}

func TestSequencesUnmarshal(t *testing.T) {
	tests := []struct {
		in      string
		want    Sequences
		wantErr bool
	}{
		{`"one"`, Sequences{{Text: "one"}}, false},
		{`["a", "b"]`, Sequences{{Text: "a"}, {Text: "b"}}, false},
		{`[0, 713, 2]`, Sequences{{IDs: []int32{0, 713, 2}}}, false},
		{`[[0, 2], [5]]`, Sequences{{IDs: []int32{0, 2}}, {IDs: []int32{5}}}, false},
		{`[[0, 2], "b"]`, Sequences{{IDs: []int32{0, 2}}, {Text: "b"}}, false}, // TEI mixes
		{`[[]]`, Sequences{{IDs: []int32{}}}, false},
		{`[]`, Sequences{}, false},
		{`null`, nil, false},
		{`[0, "a"]`, nil, true},
		{`["a", null]`, nil, true},
		{`[[1, null]]`, nil, true},
		{`[1.5]`, nil, true},
		{`[4294967296]`, nil, true},
		{`{"a": 1}`, nil, true},
		{`[true]`, nil, true},
		{`[["a"]]`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var req struct {
				Input Sequences `json:"input"`
			}
			err := json.Unmarshal([]byte(`{"input": `+tt.in+`}`), &req)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(req.Input, tt.want) {
				t.Errorf("got %#v, want %#v", req.Input, tt.want)
			}
		})
	}
	if (Sequence{IDs: []int32{}}).IsIDs() != true || (Sequence{Text: "a"}).IsIDs() {
		t.Error("IsIDs does not tell an empty id list from a text")
	}
}

func TestPairInputsUnmarshal(t *testing.T) {
	tests := []struct {
		in      string
		want    PairInputs
		wantErr bool
	}{
		{`"one"`, PairInputs{{A: "one"}}, false},
		{`["a", "b"]`, PairInputs{{A: "a"}, {A: "b"}}, false}, // two texts, not a pair (TEI differs)
		{`[["p", "h"], "t"]`, PairInputs{{A: "p", B: "h", Pair: true}, {A: "t"}}, false},
		{`[["", ""]]`, PairInputs{{Pair: true}}, false},
		{`[]`, PairInputs{}, false},
		{`null`, nil, false},
		{`[["a"]]`, nil, true},
		{`[["a", "b", "c"]]`, nil, true},
		{`[["a", null]]`, nil, true},
		{`[null]`, nil, true},
		{`[["a", 1]]`, nil, true},
		{`[1]`, nil, true},
		{`{"a": "b"}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var req struct {
				Inputs PairInputs `json:"inputs"`
			}
			err := json.Unmarshal([]byte(`{"inputs": `+tt.in+`}`), &req)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(req.Inputs, tt.want) {
				t.Errorf("got %#v, want %#v", req.Inputs, tt.want)
			}
		})
	}
}
