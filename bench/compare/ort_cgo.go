//go:build cgo

package main

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/coldserve/coldserve/bench/internal/cleantime"
)

// ortEngine is ONNX Runtime's CPU execution provider, in process through onnxruntime_go over
// the shared library that the npm package onnxruntime-node ships, set up as
// ../shared/peers/ort_peer.mjs sets it up: intra-op threads, one inter-op thread, sequential
// execution, every graph optimisation.
type ortEngine struct {
	sess    *ort.DynamicAdvancedSession
	inputs  []string // the graph's inputs, in session order
	outputs []string // every graph output (ort_peer.mjs fetches them all too)
	hidden0 int      // index of last_hidden_state in outputs
	padID   int64
}

// newORT loads lib, then the model at path. It returns the engine and a one-line description.
func newORT(lib, path string, threads, padID int) (inproc, string, error) {
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return nil, "", fmt.Errorf("load %s: %w", lib, err)
	}
	e, err := openORT(path, threads, padID)
	if err != nil {
		ort.DestroyEnvironment()
		return nil, "", err
	}
	info := fmt.Sprintf("ONNX Runtime %s (onnxruntime_go, %s), CPU EP, intra-op %d threads, inter-op 1, sequential, "+
		"graph optimisation all; model %s", ort.GetVersion(), lib, threads, path)
	return e, info, nil
}

func openORT(path string, threads, padID int) (*ortEngine, error) {
	// The probe session only reads the graph's signature, so it skips optimisation.
	probe, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	defer probe.Destroy()
	if err := probe.SetGraphOptimizationLevel(ort.GraphOptimizationLevelDisableAll); err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	ins, outs, err := ort.GetInputOutputInfoWithOptions(path, probe)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	e := &ortEngine{padID: int64(padID), hidden0: -1}
	for _, in := range ins {
		switch in.Name {
		case "input_ids", "attention_mask", "token_type_ids":
		default:
			return nil, fmt.Errorf("%s: unexpected input %s", path, in.String())
		}
		if in.DataType != ort.TensorElementDataTypeInt64 {
			return nil, fmt.Errorf("%s: input %s, want int64", path, in.String())
		}
		e.inputs = append(e.inputs, in.Name)
	}
	for i, out := range outs {
		if out.Name == "last_hidden_state" {
			if out.DataType != ort.TensorElementDataTypeFloat {
				return nil, fmt.Errorf("%s: output %s, want float32", path, out.String())
			}
			e.hidden0 = i
		}
		e.outputs = append(e.outputs, out.Name)
	}
	if e.hidden0 < 0 {
		return nil, fmt.Errorf("%s: no last_hidden_state output (outputs %v)", path, e.outputs)
	}

	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	defer opts.Destroy()
	for _, set := range []func() error{
		func() error { return opts.SetIntraOpNumThreads(threads) },
		func() error { return opts.SetInterOpNumThreads(1) },
		func() error { return opts.SetExecutionMode(ort.ExecutionModeSequential) },
		func() error { return opts.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableAll) },
	} {
		if err := set(); err != nil {
			return nil, fmt.Errorf("session options: %w", err)
		}
	}
	e.sess, err = ort.NewDynamicAdvancedSession(path, e.inputs, e.outputs, opts)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return e, nil
}

// feeds builds the input tensors for ids, padding shorter rows with the pad id and a 0 mask,
// as HF's tokenizer pads a batch.
func (e *ortEngine) feeds(ids [][]int32) ([]ort.Value, error) {
	seq := 0
	for _, s := range ids {
		seq = max(seq, len(s))
	}
	shape := ort.NewShape(int64(len(ids)), int64(seq))
	tok := make([]int64, len(ids)*seq)
	mask := make([]int64, len(ids)*seq)
	for b, s := range ids {
		for t := range seq {
			if t < len(s) {
				tok[b*seq+t], mask[b*seq+t] = int64(s[t]), 1
			} else {
				tok[b*seq+t] = e.padID
			}
		}
	}
	vals := make([]ort.Value, len(e.inputs))
	for i, name := range e.inputs {
		data := map[string][]int64{"input_ids": tok, "attention_mask": mask, "token_type_ids": make([]int64, len(tok))}[name]
		t, err := ort.NewTensor(shape, data)
		if err != nil {
			destroy(vals)
			return nil, fmt.Errorf("input %s: %w", name, err)
		}
		vals[i] = t
	}
	return vals, nil
}

func destroy(vals []ort.Value) {
	for _, v := range vals {
		if v != nil {
			v.Destroy()
		}
	}
}

// run is one forward pass; ONNX Runtime allocates the outputs, which the caller destroys.
func (e *ortEngine) run(in []ort.Value) ([]ort.Value, error) {
	out := make([]ort.Value, len(e.outputs))
	if err := e.sess.Run(in, out); err != nil {
		destroy(out)
		return nil, err
	}
	return out, nil
}

func (e *ortEngine) bench(ids [][]int32, o cleantime.Options) (cleantime.Result, error) {
	in, err := e.feeds(ids)
	if err != nil {
		return cleantime.Result{}, err
	}
	defer destroy(in)
	return cleantime.Bench(func() error {
		out, err := e.run(in)
		destroy(out)
		return err
	}, o)
}

func (e *ortEngine) hidden(ids [][]int32) ([][][]float32, error) {
	in, err := e.feeds(ids)
	if err != nil {
		return nil, err
	}
	defer destroy(in)
	out, err := e.run(in)
	if err != nil {
		return nil, err
	}
	defer destroy(out)
	t, ok := out[e.hidden0].(*ort.Tensor[float32])
	if !ok {
		return nil, fmt.Errorf("last_hidden_state is a %T", out[e.hidden0])
	}
	dims := t.GetShape()
	if len(dims) != 3 || int(dims[0]) != len(ids) {
		return nil, fmt.Errorf("last_hidden_state has shape %v for %d sequences", dims, len(ids))
	}
	seq, width, data := int(dims[1]), int(dims[2]), t.GetData()
	h := make([][][]float32, len(ids))
	for b, s := range ids {
		h[b] = make([][]float32, len(s))
		for tok := range s {
			start := (b*seq + tok) * width
			h[b][tok] = append([]float32(nil), data[start:start+width]...)
		}
	}
	return h, nil
}

func (e *ortEngine) close() {
	e.sess.Destroy()
	ort.DestroyEnvironment()
}

// ortBuilt says this build can load ONNX Runtime.
const ortBuilt = true
