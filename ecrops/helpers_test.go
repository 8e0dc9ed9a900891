package ecrops_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
)

// standIn is a running stand-in and an Account that talks to it.
type standIn struct {
	t   testing.TB
	srv *sim.Server
	acc *ecrops.Account
	cfg ecrops.Config
}

func start(t *testing.T, scenario string) *standIn { return startWith(t, simtest.Start(t, scenario)) }

func startYAML(t *testing.T, doc string) *standIn { return startWith(t, simtest.Start(t, doc)) }

func startWith(t testing.TB, srv *sim.Server) *standIn {
	t.Helper()
	s := &standIn{t: t, srv: srv}
	info := srv.Info()
	s.cfg = ecrops.Config{Region: info.Region, EndpointURL: info.Endpoint, Resolve: info.Resolve,
		StateDir: t.TempDir(), Retryer: ecrops.NoBackoff(3),
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")}
	s.acc = s.open(s.cfg)
	return s
}

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
