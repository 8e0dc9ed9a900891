// Package simtest starts the stand-in for tests: one call, cleaned up when the test ends.
package simtest

import (
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
)

// Start serves a scenario on loopback for the test's life: an embedded scenario's name
// ("demo", "empty") or a scenario's YAML.
func Start(tb testing.TB, scenario string) *sim.Server {
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
	return StartScenario(tb, sc)
}

// StartScenario serves a parsed scenario for the test's life.
func StartScenario(tb testing.TB, sc *sim.Scenario) *sim.Server {
	tb.Helper()
	srv, err := sim.New(sc)
	if err != nil {
		tb.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close() })
	return srv
}
