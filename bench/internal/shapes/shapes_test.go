package shapes

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		spec    string
		want    []Shape
		wantErr string
	}{
		{spec: "1x16", want: []Shape{{1, 16}}},
		{spec: " 1x16, 8X128 ,32x128,", want: []Shape{{1, 16}, {8, 128}, {32, 128}}},
		{spec: "", wantErr: "no shapes"},
		{spec: "16", wantErr: "bad shape"},
		{spec: "0x16", wantErr: "bad shape"},
		{spec: "1x1", wantErr: "bad shape"},
		{spec: "2x-3", wantErr: "bad shape"},
		{spec: "ax16", wantErr: "bad shape"},
		{spec: "1x16,1x16", wantErr: "given twice"},
	}
	for _, tc := range tests {
		got, err := Parse(tc.spec)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Parse(%q) error = %v, want one containing %q", tc.spec, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", tc.spec, got, err, tc.want)
		}
	}
}
