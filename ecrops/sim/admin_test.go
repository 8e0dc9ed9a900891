package sim_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
)

func TestAdminClock(t *testing.T) {
	s := startScenario(t, "demo")
	var before, after struct{ Now time.Time }
	s.admin(http.MethodGet, "clock", "", &before)
	s.admin(http.MethodPost, "clock", `{"advance":"2d"}`, &after)
	if d := after.Now.Sub(before.Now); d < 48*time.Hour || d > 48*time.Hour+time.Minute {
		t.Fatalf("clock moved %v", d)
	}
	// What the account reports follows the stand-in's clock.
	out := must[*ecr.CreateRepositoryOutput](t)(s.ecr.CreateRepository(ctx(t), &ecr.CreateRepositoryInput{RepositoryName: aws.String("later")}))
	if d := out.Repository.CreatedAt.Sub(time.Now()); d < 47*time.Hour {
		t.Fatalf("createdAt is %v ahead, want about 48h", d)
	}
	resp, _ := http.Post(s.srv.Info().Admin+"/clock", "application/json", strings.NewReader(`{"advance":"soon"}`))
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a bad duration answered %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestFaultThrottlesAsATokenBucket(t *testing.T) {
	s := startScenario(t, "demo")
	s.admin(http.MethodPut, "faults", `[{"operation":"DescribeRepositories","throttlePerSecond":5}]`, nil)
	c := ctx(t)
	ok, throttled := 0, 0
	for range 20 {
		_, err := s.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{})
		switch {
		case err == nil:
			ok++
		default:
			wantCode(t, err, "ThrottlingException", "Rate exceeded")
			throttled++
		}
	}
	// A burst of 20 against a bucket of 5 a second: about 5 pass, the rest are throttled.
	if ok < 5 || ok > 10 || throttled < 10 {
		t.Fatalf("ok %d, throttled %d", ok, throttled)
	}
	// Other operations are untouched.
	if _, err := s.ecr.DescribePullThroughCacheRules(c, &ecr.DescribePullThroughCacheRulesInput{}); err != nil {
		t.Fatal(err)
	}
	s.admin(http.MethodDelete, "faults", "", nil)
	if _, err := s.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{}); err != nil {
		t.Fatalf("after clearing faults: %v", err)
	}
}

func TestFaultServerErrorsLatencyAndResets(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	s.admin(http.MethodPut, "faults", `[{"operation":"*","errorRate":1}]`, nil)
	_, err := s.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{})
	wantCode(t, err, "ServerException", "injected")

	s.admin(http.MethodPut, "faults", `[{"operation":"DescribeImages","latency":"150ms","latencyRate":1}]`, nil)
	start := time.Now()
	if _, err := s.ecr.DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: aws.String("my-proxy")}); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 150*time.Millisecond {
		t.Fatal("the added latency was not applied")
	}

	s.admin(http.MethodPut, "faults", `[{"operation":"ListImages","resetRate":1}]`, nil)
	_, err = s.ecr.ListImages(c, &ecr.ListImagesInput{RepositoryName: aws.String("my-proxy")})
	var apiErr interface{ ErrorCode() string }
	if err == nil || errors.As(err, &apiErr) {
		t.Fatalf("a reset connection should be a transport error, got %v", err)
	}
	var reset bool
	for _, e := range s.srv.Events(0) {
		reset = reset || (e.Operation == "ListImages" && e.Outcome == "ConnectionReset")
	}
	if !reset {
		t.Fatal("the reset is not in the event log")
	}

	resp, _ := http.Post(s.srv.Info().Admin+"/faults", "application/json", strings.NewReader(`[{"operation":"X","errorRate":2}]`))
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("an impossible rate answered %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestScenarioFaultsApplyFromTheStart(t *testing.T) {
	s := startYAML(t, `
faults:
  - {operation: DescribePullThroughCacheRules, errorRate: 1}
`)
	_, err := s.ecr.DescribePullThroughCacheRules(ctx(t), &ecr.DescribePullThroughCacheRulesInput{})
	wantCode(t, err, "ServerException", "")
}

func TestEventLogAndReset(t *testing.T) {
	s := startScenario(t, "demo")
	c := ctx(t)
	if _, err := s.ecr.DeleteRepository(c, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("my-proxy")}); err != nil {
		t.Fatal(err)
	}
	s.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"my-proxy"}})
	var log struct{ Events []sim.Event }
	s.admin(http.MethodGet, "events", "", &log)
	if len(log.Events) != 2 {
		t.Fatalf("%d events", len(log.Events))
	}
	del, desc := log.Events[0], log.Events[1]
	if del.Operation != "DeleteRepository" || !del.Write || del.Outcome != "ok" || del.Principal != "arn:aws:iam::111122223333:user/admin" || del.RequestID == "" {
		t.Fatalf("delete event: %+v", del)
	}
	if desc.Operation != "DescribeRepositories" || desc.Write || desc.Outcome != "RepositoryNotFoundException" || desc.Status != 400 {
		t.Fatalf("describe event: %+v", desc)
	}
	s.admin(http.MethodGet, "events?since=1", "", &log)
	if len(log.Events) != 1 || log.Events[0].Seq != 2 {
		t.Fatalf("since=1: %+v", log.Events)
	}

	// The reset takes the clock back too: three days advanced are undone.
	var before, after struct{ Now time.Time }
	s.admin(http.MethodGet, "clock", "", &before)
	s.admin(http.MethodPost, "clock", `{"advance":"3d"}`, nil)
	s.admin(http.MethodPost, "reset", "", nil)
	if _, err := s.ecr.DescribeRepositories(c, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"my-proxy"}}); err != nil {
		t.Fatalf("my-proxy is back after a reset: %v", err)
	}
	s.admin(http.MethodGet, "clock", "", &after)
	if d := after.Now.Sub(before.Now); d < 0 || d > time.Hour {
		t.Fatalf("after a reset the clock is %v from where it was before the advance", d)
	}
}

// A typo in an admin request is refused with 400 and a message, never stored or ignored:
// an operation no API model has, a field the endpoint lacks, a malformed query value.
func TestAdminRefusesTypos(t *testing.T) {
	s := startScenario(t, "demo")
	var before struct{ Now time.Time }
	s.admin(http.MethodGet, "clock", "", &before)
	for _, c := range []struct{ method, path, body, want string }{
		{http.MethodPut, "/faults", `[{"operation":"DescribeImagez","errorRate":1}]`, "DescribeImagez"},
		{http.MethodPut, "/faults", `[{"operation":"DescribeImages","errorRat":1}]`, "errorRat"},
		{http.MethodPost, "/clock", `{"advnce":"3d"}`, "advnce"},
		{http.MethodPost, "/clock", `{}`, "advance"},
		{http.MethodPost, "/upstreams/move", `{"host":"registry-1.docker.io","repository":"library/nginx","tag":"latest","versoin":3}`, "versoin"},
		{http.MethodPost, "/expire-key", `{"acessKeyId":"AKIAPTCDOCTORSIMADMIN"}`, "accessKeyId"},
		{http.MethodGet, "/events?since=abc", "", "since"},
		{http.MethodGet, "/events?since=-1", "", "since"},
	} {
		req, _ := http.NewRequest(c.method, s.srv.Info().Admin+c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Error string }
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(out.Error, c.want) {
			t.Errorf("%s %s %s: %d %q, want 400 naming %s", c.method, c.path, c.body, resp.StatusCode, out.Error, c.want)
		}
	}
	var faults struct{ Faults []sim.Fault }
	s.admin(http.MethodGet, "faults", "", &faults)
	var after struct{ Now time.Time }
	s.admin(http.MethodGet, "clock", "", &after)
	if len(faults.Faults) != 0 || !after.Now.Equal(before.Now) {
		t.Fatalf("refused requests changed the stand-in: faults %+v, clock moved %v", faults.Faults, after.Now.Sub(before.Now))
	}
	// What is right still works: every model's operation, the query ones, upstream hosts.
	s.admin(http.MethodPut, "faults", `[{"operation":"GetSecretValue","errorRate":1},{"operation":"GetCallerIdentity","latency":"1ms"},{"operation":"upstream:quay.io","errorRate":1},{"operation":"*","throttleRate":0.5}]`, nil)
}
