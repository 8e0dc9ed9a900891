package ecrops_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
)

// standIn is a running stand-in and an Account that talks to it.
type standIn struct {
	t   testing.TB
	srv *sim.Server
	acc *ecrops.Account
	cfg ecrops.Config
}

func start(t *testing.T, scenario string) *standIn {
	t.Helper()
	sc, err := sim.LoadScenario(scenario)
	if err != nil {
		t.Fatal(err)
	}
	return startWith(t, sc)
}

func startYAML(t *testing.T, doc string) *standIn {
	t.Helper()
	sc, err := sim.ParseScenario([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return startWith(t, sc)
}

func startWith(t testing.TB, sc *sim.Scenario) *standIn {
	t.Helper()
	srv, err := sim.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	s := &standIn{t: t, srv: srv}
	info := srv.Info()
	s.cfg = ecrops.Config{Region: info.Region, EndpointURL: info.Endpoint, Resolve: info.Resolve,
		StateDir: t.TempDir(), Retryer: noBackoff(3),
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")}
	s.acc = s.open(s.cfg)
	return s
}

// noBackoff is a standard retryer that does not sleep: the adaptive mode sleeps about
// two seconds per throttle, which tests cannot afford.
func noBackoff(attempts int) func() aws.Retryer {
	return func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			o.RateLimiter = noRateLimit{}
		})
	}
}

// noRateLimit lets the standard retryer retry without its retry-token bucket.
type noRateLimit struct{}

func (noRateLimit) GetToken(context.Context, uint) (func() error, error) {
	return func() error { return nil }, nil
}
func (noRateLimit) AddTokens(uint) error { return nil }

func (s *standIn) open(cfg ecrops.Config) *ecrops.Account {
	s.t.Helper()
	acc, err := ecrops.Open(context.Background(), cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	return acc
}

// as opens the account with another principal's keys.
func (s *standIn) as(keyID, secret string) *ecrops.Account {
	cfg := s.cfg
	cfg.Credentials = credentials.NewStaticCredentialsProvider(keyID, secret, "")
	return s.open(cfg)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// writes counts the calls that reached the stand-in and changed the account.
func (s *standIn) writes() int {
	n := 0
	for _, e := range s.srv.Events(0) {
		if e.Write {
			n++
		}
	}
	return n
}

func (s *standIn) calls(op string) int {
	n := 0
	for _, e := range s.srv.Events(0) {
		if e.Operation == op || strings.HasSuffix(e.Operation, " "+op) {
			n++
		}
	}
	return n
}
