package inference

import (
	"errors"
	"fmt"
)

// ErrDriftHeld is the kind of *DriftError, for errors.Is.
var ErrDriftHeld = errors.New("drift below the gate")

// DriftError says a candidate passed every check but moved the vectors further than the caller
// allows (SwapRequest.MinCosine), so it was held: the served checkpoint is unchanged. It carries
// the candidate and its drift, so the caller can report how far it was.
type DriftError struct {
	Candidate CheckpointInfo
	Drift     Drift
	MinCosine float64
}

func (e *DriftError) Is(target error) bool { return target == ErrDriftHeld }

func (e *DriftError) Error() string {
	return fmt.Sprintf("%s (%s) drifts too far from the served checkpoint: its minimum cosine similarity on the probe texts is %.4f, below the gate %.4f; still serving the current one",
		Clip(e.Candidate.Source), e.Candidate.ID, e.Drift.Min, e.MinCosine)
}

// CheckMinCosine validates a drift gate: nil (no gate) or a cosine similarity from 0 to 1.
// Swap checks every request with it, and package rollout a declaration file as it reads it.
func CheckMinCosine(min *float64) error {
	if min != nil && !(*min >= 0 && *min <= 1) {
		return errorf(ErrInvalidInput, "min_cosine %v: want a cosine similarity from 0 to 1", *min)
	}
	return nil
}

// gateDrift holds cand when min is set and cand's vectors, compared with the served ones on
// the probe texts, have a minimum cosine below it. A geometry change that the caller allowed
// leaves nothing to compare (Drift.Comparable is false) and passes: allowing it already
// accepts that stored vectors become incomparable. A drift that is not a number is held.
func (c *Core) gateDrift(cand *candidate, min *float64, who Caller) error {
	if min == nil || !cand.drift.Comparable || cand.drift.Min >= *min {
		return nil
	}
	err := &DriftError{Candidate: cand.info, Drift: cand.drift, MinCosine: *min}
	c.log.Warn("checkpoint held by the drift gate; still serving the current one", "source", Clip(cand.info.Source),
		"checkpoint", cand.info.ID, "drift_min_cosine", cand.drift.Min, "min_cosine", *min, "request_id", who.RequestID)
	return err
}
