package kernels

import (
	"fmt"
	"os"
	"testing"
)

// TestMain prints, once per run, the path the CPU-dependent tests take.
func TestMain(m *testing.M) {
	fmt.Fprintln(os.Stderr, "kernels tests:", Path())
	os.Exit(m.Run())
}
