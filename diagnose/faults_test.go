package diagnose_test

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// patient opens the stand-in with a client that retries much and waits little, as the
// adaptive mode would over minutes.
func patient(t *testing.T, srv *sim.Server) *ecrops.Account {
	t.Helper()
	return open(t, srv, 15, 20*time.Second)
}

func keys(fs []model.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Check+" | "+f.Subject.Kind+" "+f.Subject.Name)
	}
	sort.Strings(out)
	return out
}

func setFaults(t *testing.T, srv *sim.Server, body string) {
	t.Helper()
	simtest.Admin(t, srv, http.MethodPut, "faults", body, nil)
}

func diagnoseAll(t *testing.T, acc *ecrops.Account) (*model.Snapshot, []model.Finding) {
	t.Helper()
	return diagnoseWith(t, acc, demoRefs, "arn:aws:iam::111122223333:role/eks-node")
}

// Throttling on 30% of calls, 2% server errors, a second of latency on 5%, 1% of
// connections reset: the diagnosis ends with the findings of a clean run.
func TestTheDiagnosisSurvivesFaults(t *testing.T) {
	clean, cleanAcc := account(t, "demo")
	_ = clean
	_, want := diagnoseAll(t, cleanAcc)

	srv, _ := account(t, "demo")
	setFaults(t, srv, `[{"operation":"*","throttleRate":0.3,"errorRate":0.02,"latency":"1s","latencyRate":0.05,"resetRate":0.01}]`)
	snap, got := diagnoseAll(t, patient(t, srv))
	if len(snap.Errors) > 0 {
		t.Fatalf("with retries, no part should be lost: %v", snap.Errors)
	}
	if strings.Join(keys(got), "\n") != strings.Join(keys(want), "\n") {
		t.Fatalf("faults changed the findings:\n--- faulted\n%s\n--- clean\n%s", strings.Join(keys(got), "\n"), strings.Join(keys(want), "\n"))
	}
	var faults int
	for _, e := range srv.Events(0) {
		if e.Outcome == "ThrottlingException" || e.Outcome == "ServerException" || e.Outcome == "ConnectionReset" {
			faults++
		}
	}
	if faults == 0 {
		t.Fatal("no fault was injected")
	}
	t.Logf("%d faults injected and survived", faults)
}

// Credentials that expire in the middle of a scan: the scan says which parts it could not
// read, and no finding rests on a call that failed.
func TestCredentialsExpiringMidScan(t *testing.T) {
	srv, _ := account(t, "demo")
	acc := patient(t, srv)
	expired := false
	snap, err := acc.Scan(context.Background(), ecrops.Scope{}, func(p ecrops.Progress) {
		if p.Stage == "repositories" && !expired {
			expired = true
			resp, err := simtest.AdminRequest(srv, http.MethodPost, "expire-key", `{"accessKeyId":"`+srv.Info().AccessKeyID+`"}`)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("expire-key: %v %v", err, resp)
				return
			}
			resp.Body.Close()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Errors) == 0 {
		t.Fatal("the scan did not say what it could not read")
	}
	for _, e := range snap.Errors {
		if e.Code != "ExpiredTokenException" {
			t.Fatalf("unexpected error: %v", e)
		}
	}
	findings := diagnose.Run(context.Background(), snap, acc, diagnose.Options{})
	for _, f := range findings {
		switch f.Check {
		case "negative-cache", "no-lifecycle", "missing-manifest":
			repo := snap.Repository(strings.Split(f.Subject.Name, ":")[0])
			if repo != nil && (!repo.ImagesKnown || !repo.LifecycleKnown) {
				t.Errorf("a finding rests on a failed call: [%s] %s", f.Check, f.Title)
			}
		}
	}
}

// An upstream that hangs holds nobody: its probes time out, the checks that need it say
// nothing, and list what they could not check, with the timeout.
func TestAHangingUpstream(t *testing.T) {
	srv, _ := account(t, "demo")
	setFaults(t, srv, `[{"operation":"upstream:registry-1.docker.io","latency":"30s","latencyRate":1}]`)
	_, res := diagnoseResult(t, open(t, srv, 3, 700*time.Millisecond), demoRefs, "arn:aws:iam::111122223333:role/eks-node")
	named := false
	for _, n := range res.NotChecked {
		named = named || strings.Contains(n.Failed.Part, "registry-1.docker.io")
	}
	for _, f := range res.Findings {
		if (f.Check == "upstream-rate-limit" || f.Check == "stale-tag") && strings.HasPrefix(f.Subject.Name, "docker-hub") {
			t.Errorf("a finding was made from an upstream that never answered: %s", f.Title)
		}
	}
	if !named || res.Complete() {
		t.Fatalf("the upstream that did not answer is not named: %+v", res.NotChecked)
	}
}

// Cancelling a scan stops its calls at once.
func TestCancellingAScan(t *testing.T) {
	srv, _ := account(t, "generate: {rules: 5, repositoriesPerRule: 40, imagesPerRepository: 2}\nfaults: [{operation: DescribeImages, latency: 200ms, latencyRate: 1}]")
	acc := patient(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := acc.Scan(ctx, ecrops.Scope{}, func(p ecrops.Progress) {
		if p.Stage == "images" && p.ReposDone >= 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled scan returned %v", err)
	}
	before := len(srv.Events(0))
	time.Sleep(500 * time.Millisecond)
	if after := len(srv.Events(0)); after-before > 16 {
		t.Fatalf("%d calls after the scan was cancelled", after-before)
	}
	if calls := 0; len(srv.Events(0)) > 150 {
		t.Fatalf("the cancelled scan made %d calls of 200+", len(srv.Events(0))+calls)
	}
}
