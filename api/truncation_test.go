package api

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDirectionUnmarshal(t *testing.T) {
	tests := []struct {
		in      string
		want    Direction
		wantErr bool
	}{
		{`"right"`, Right, false},
		{`"Left"`, Left, false},
		{`"RIGHT"`, Right, false},
		{`"up"`, "", true},
		{`1`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var d Direction
			err := json.Unmarshal([]byte(tt.in), &d)
			if (err != nil) != tt.wantErr || d != tt.want {
				t.Errorf("got %q, %v; want %q, error %v", d, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestHeadNamesUnmarshal(t *testing.T) {
	tests := []struct {
		in      string
		want    HeadNames
		wantErr bool
	}{
		{`"sentiment"`, HeadNames{"sentiment"}, false},
		{`"*"`, HeadNames{"*"}, false},
		{`["nli", "sentiment"]`, HeadNames{"nli", "sentiment"}, false},
		{`[]`, HeadNames{}, false},
		{`null`, nil, false},
		{`["nli", null]`, nil, true},
		{`[1]`, nil, true},
		{`{}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var h HeadNames
			err := json.Unmarshal([]byte(tt.in), &h)
			if (err != nil) != tt.wantErr || (!tt.wantErr && !reflect.DeepEqual(h, tt.want)) {
				t.Errorf("got %#v, %v; want %#v, error %v", h, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestLabelsUnmarshal(t *testing.T) {
	tests := []struct {
		in      string
		want    Labels
		wantErr bool
	}{
		{`"sports, politics,tech "`, Labels{"sports", "politics", "tech"}, false},
		{`"one"`, Labels{"one"}, false},
		{`["a, b", "c"]`, Labels{"a, b", "c"}, false},
		{`", ,"`, nil, false},
		{`["a", null]`, nil, true},
		{`3`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var l Labels
			err := json.Unmarshal([]byte(tt.in), &l)
			if (err != nil) != tt.wantErr || (!tt.wantErr && !reflect.DeepEqual(l, tt.want)) {
				t.Errorf("got %#v, %v; want %#v, error %v", l, err, tt.want, tt.wantErr)
			}
		})
	}
}
