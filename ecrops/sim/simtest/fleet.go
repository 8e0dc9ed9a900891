package simtest

import (
	"testing"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
)

// StartFleet serves a fleet scenario (several accounts and regions) on loopback for the
// test's life: a scenario's YAML, or the path of a scenario file.
func StartFleet(tb testing.TB, scenario string) *sim.Fleet {
	tb.Helper()
	f, err := sim.NewFleet(load(tb, scenario))
	if err != nil {
		tb.Fatal(err)
	}
	if err := f.Start("127.0.0.1:0"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}
