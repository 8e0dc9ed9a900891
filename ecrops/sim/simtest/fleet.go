package simtest

import (
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
)

// StartFleet serves a fleet scenario (several accounts and regions) on loopback for the
// test's life: a scenario's YAML, or the path of a scenario file.
func StartFleet(tb testing.TB, scenario string) *sim.Fleet {
	tb.Helper()
	var sc *sim.Scenario
	var err error
	if strings.ContainsAny(scenario, ":\n") {
		sc, err = sim.ParseScenario([]byte(scenario))
	} else {
		sc, err = sim.LoadScenario(scenario)
	}
	if err != nil {
		tb.Fatal(err)
	}
	f, err := sim.NewFleet(sc)
	if err != nil {
		tb.Fatal(err)
	}
	if err := f.Start("127.0.0.1:0"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}
