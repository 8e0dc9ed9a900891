// Package simtest starts the stand-in for tests: one call, cleaned up when the test ends.
package simtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
)

// Start serves a scenario on loopback for the test's life: an embedded scenario's name
// ("demo", "empty") or a scenario's YAML.
func Start(tb testing.TB, scenario string) *sim.Server {
	tb.Helper()
	return StartScenario(tb, load(tb, scenario))
}

// load reads a scenario given as YAML, or as an embedded scenario's name or a file's path.
func load(tb testing.TB, scenario string) *sim.Scenario {
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
	return sc
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

// Admin calls one of the stand-in's /_sim/ endpoints ("faults", "clock", ...), fails the
// test on anything but 200, and decodes the answer into out unless out is nil. Call it
// from the test's goroutine; elsewhere use AdminRequest.
func Admin(tb testing.TB, srv *sim.Server, method, path, body string, out any) {
	tb.Helper()
	resp, err := AdminRequest(srv, method, path, body)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		tb.Fatalf("%s /_sim/%s: %s %s", method, path, resp.Status, msg)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			tb.Fatalf("%s /_sim/%s: %v", method, path, err)
		}
	}
}

// AdminRequest sends a request to the admin API as it wants to be called: the body as
// JSON, with Content-Type: application/json. The caller closes the answer's body.
func AdminRequest(srv *sim.Server, method, path, body string) (*http.Response, error) {
	req, err := http.NewRequest(method, srv.Info().Admin+"/"+strings.TrimPrefix(path, "/"), strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return http.DefaultClient.Do(req)
}
