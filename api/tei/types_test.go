package tei

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/coldserve/coldserve/api"
)

// The shapes TEI's PredictInput visitor accepts, and what each means.
func TestPredictInputUnmarshal(t *testing.T) {
	tests := []struct {
		in      string
		want    PredictInput
		wantErr bool
	}{
		{`"I like you."`, PredictInput{Items: []api.TextInput{{A: "I like you."}}}, false},
		{`["a"]`, PredictInput{Items: []api.TextInput{{A: "a"}}}, false},
		{`["p", "h"]`, PredictInput{Items: []api.TextInput{{A: "p", B: "h", Pair: true}}}, false}, // one pair
		{`[["a"], ["p", "h"]]`, PredictInput{Items: []api.TextInput{{A: "a"}, {A: "p", B: "h", Pair: true}}, Batch: true}, false},
		{`[["a"]]`, PredictInput{Items: []api.TextInput{{A: "a"}}, Batch: true}, false},
		{`["a", "b", "c"]`, PredictInput{}, true},
		{`[["a", "b", "c"]]`, PredictInput{}, true},
		{`[[]]`, PredictInput{}, true},
		{`[]`, PredictInput{}, true},
		{`["a", ["b"]]`, PredictInput{}, true},
		{`[["a"], "b"]`, PredictInput{}, true},
		{`[["a", null]]`, PredictInput{}, true},
		{`["a", null]`, PredictInput{}, true},
		{`5`, PredictInput{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var req PredictRequest
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
