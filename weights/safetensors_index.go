package weights

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Large HF checkpoints are split into shards (model-00001-of-00002.safetensors, ...) with
// model.safetensors.index.json mapping every tensor name to its shard:
//
//	{"metadata": {...}, "weight_map": {"embeddings.word_embeddings.weight": "model-00001-of-00002.safetensors", ...}}

// maxIndexBytes bounds the index file; real ones are a few KB to a few MB.
const maxIndexBytes = 64 << 20

// openSafetensorsIndex opens every shard an index names and checks that each listed tensor is
// in the shard the index says. It returns the shards' tensors and a function closing them.
func openSafetensorsIndex(indexPath string) ([]rawTensor, func() error, error) {
	info, err := os.Stat(indexPath)
	if err != nil {
		return nil, nil, fmt.Errorf("open index: %w", err)
	}
	if info.Size() > maxIndexBytes {
		return nil, nil, &HeaderError{File: indexPath, Reason: fmt.Sprintf("index is %d bytes, over the %d-byte limit", info.Size(), maxIndexBytes)}
	}
	raw, err := os.ReadFile(indexPath)
	if err != nil {
		return nil, nil, fmt.Errorf("read index: %w", err)
	}
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		return nil, nil, &HeaderError{File: indexPath, Reason: "not a valid safetensors index", Err: err}
	}
	if len(index.WeightMap) == 0 {
		return nil, nil, &HeaderError{File: indexPath, Reason: "weight_map is empty"}
	}
	shardNames := map[string]bool{}
	for name, shard := range index.WeightMap {
		// Shards live next to the index; a path would let an index read arbitrary files.
		if shard == "" || shard != filepath.Base(shard) || strings.HasPrefix(shard, ".") {
			return nil, nil, &HeaderError{File: indexPath, Tensor: name, Reason: fmt.Sprintf("shard name %q is not a plain file name", shard)}
		}
		shardNames[shard] = true
	}
	shards := make([]string, 0, len(shardNames))
	for s := range shardNames {
		shards = append(shards, s)
	}
	sort.Strings(shards)

	dir := filepath.Dir(indexPath)
	var opened []*safetensorsFile
	closeAll := func() error {
		var first error
		for _, st := range opened {
			if err := st.Close(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	var all []rawTensor
	where := map[string]string{} // tensor name -> shard it was found in
	for _, shard := range shards {
		st, err := openSafetensors(filepath.Join(dir, shard))
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("shard %s of %s: %w", shard, indexPath, err)
		}
		opened = append(opened, st)
		for _, t := range st.tensors {
			if prev, dup := where[t.Name]; dup {
				closeAll()
				return nil, nil, &HeaderError{File: t.File, Tensor: t.Name, Reason: "tensor also stored in shard " + prev}
			}
			where[t.Name] = shard
			all = append(all, t)
		}
	}
	for name, shard := range index.WeightMap {
		if where[name] != shard {
			closeAll()
			return nil, nil, &MissingTensorError{Tensor: name, Source: filepath.Join(dir, shard), Reason: "listed in " + filepath.Base(indexPath)}
		}
	}
	return all, closeAll, nil
}
