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
