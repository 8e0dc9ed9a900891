package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/cobra"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
)

// globals are the flags every verb shares: which account, and how to reach it.
type globals struct {
	profile, region, endpointURL string
	profiles                     []string // --profile, each time it was given (fleet_flags.go)
	resolve                      []string
	rates                        []string
	readOnly                     bool
	demo                         bool
	demoFleet                    bool // demo_fleet.go
	noSecretRead                 bool
}

func (g *globals) register(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.Var(profilesValue{g}, "profile", "AWS profile (default: AWS_PROFILE, then the default profile; SSO profiles work); doctor and fix take it repeated, one account each")
	f.StringVar(&g.region, "region", "", "AWS region (default: AWS_REGION, then the profile's)")
	f.StringVar(&g.endpointURL, "endpoint-url", "", "one URL for every AWS API (default: AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_ECR)")
	f.StringArrayVar(&g.resolve, "resolve", nil, "reach a registry host at another URL, HOST=URL (repeatable; also PTCDOCTOR_RESOLVE, comma-separated)")
	f.StringArrayVar(&g.rates, "rate", nil, "keep an AWS operation to N calls a second, OP=N or *=N (repeatable)")
	f.BoolVar(&g.readOnly, "read-only", false, "refuse every change to AWS")
	f.BoolVar(&g.demo, "demo", false, "run against the embedded demo account (a local stand-in; no AWS needed)")
	f.BoolVar(&g.demoFleet, "demo-fleet", false, "run against the embedded demo fleet: several accounts and regions (the interface, doctor and fix)")
	f.BoolVar(&g.noSecretRead, "no-secret-read", false, "never read a rule's secret: probe upstreams anonymously")
}

// accountArgs are the flags that chose the account and how it was read, for a command
// the tool prints for the person to run next (`fix --finding ID ...`): run as printed, it
// must reach the same account and find the same findings, never the default profile's.
// A fleet target names its own profile and region (targetArgs), so withTarget is false there.
func (g *globals) accountArgs(withTarget bool) string {
	var b strings.Builder
	if g.demo {
		b.WriteString(" --demo")
	}
	if g.demoFleet {
		b.WriteString(" --demo-fleet")
	}
	if withTarget && g.profile != "" {
		b.WriteString(" --profile " + shellQuote(g.profile))
	}
	if withTarget && g.region != "" {
		b.WriteString(" --region " + shellQuote(g.region))
	}
	if g.endpointURL != "" {
		b.WriteString(" --endpoint-url " + shellQuote(g.endpointURL))
	}
	for _, r := range g.resolve {
		b.WriteString(" --resolve " + shellQuote(r))
	}
	if g.noSecretRead {
		b.WriteString(" --no-secret-read")
	}
	return b.String()
}

// session is an opened account, with the stand-in behind it when --demo is on.
type session struct {
	acc  *ecrops.Account
	demo *sim.Server
}

func (s *session) Close() {
	if s.demo != nil {
		s.demo.Close()
	}
}

// stateDir holds the journal. The demo's writes go to a journal of its own,
// never beside a real account's.
func (g *globals) stateDir() string {
	if g.demo {
		return filepath.Join(ecrops.DefaultStateDir(), "demo")
	}
	if g.demoFleet {
		return filepath.Join(ecrops.DefaultStateDir(), "demo-fleet")
	}
	return ecrops.DefaultStateDir()
}

// open connects to the account the flags name, or starts the demo account.
func (g *globals) open(ctx context.Context) (*session, error) {
	if len(g.profiles) > 1 {
		return nil, usageError{fmt.Errorf("--profile given %d times: only doctor and fix look at several accounts at once", len(g.profiles))}
	}
	if g.demoFleet {
		return nil, usageError{fmt.Errorf("--demo-fleet is several accounts: only the interface, doctor and fix look at it (--demo is one account)")}
	}
	cfg, err := g.config()
	if err != nil {
		return nil, err
	}
	s := &session{}
	if g.demo {
		sc, err := sim.LoadScenario("demo")
		if err != nil {
			return nil, err
		}
		srv, err := sim.New(sc)
		if err != nil {
			return nil, err
		}
		if err := srv.Start("127.0.0.1:0"); err != nil {
			return nil, err
		}
		info := srv.Info()
		s.demo = srv
		cfg.Profile, cfg.Region, cfg.EndpointURL = "", info.Region, info.Endpoint
		cfg.Credentials = credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")
		for h, u := range info.Resolve {
			cfg.Resolve[h] = u
		}
		cfg.StateDir = g.stateDir()
	}
	acc, err := ecrops.Open(ctx, cfg)
	if err != nil {
		s.Close()
		return nil, usageError{err}
	}
	s.acc = acc
	return s, nil
}

// config is the account configuration the flags give (without --demo's stand-in).
func (g *globals) config() (ecrops.Config, error) {
	rates, err := parseRates(g.rates)
	if err != nil {
		return ecrops.Config{}, usageError{err}
	}
	resolveItems := append([]string{os.Getenv("PTCDOCTOR_RESOLVE")}, g.resolve...)
	resolve, err := ecrops.ParseResolve(resolveItems)
	if err != nil {
		return ecrops.Config{}, usageError{err}
	}
	return ecrops.Config{Profile: g.profile, Region: g.region, EndpointURL: g.endpointURL, Resolve: resolve,
		ReadOnly: g.readOnly, Rates: rates, NoSecretRead: g.noSecretRead}, nil
}

func parseRates(items []string) (map[string]float64, error) {
	if len(items) == 0 {
		return nil, nil
	}
	out := map[string]float64{}
	for _, item := range items {
		op, n, ok := strings.Cut(item, "=")
		v, err := strconv.ParseFloat(n, 64)
		if !ok || op == "" || err != nil || v <= 0 {
			return nil, fmt.Errorf("--rate %q: want OPERATION=CALLS_PER_SECOND, like DescribeImages=20", item)
		}
		out[op] = v
	}
	return out, nil
}
