package ecrops

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
)

// The targets of one fleet share one SDK configuration per source of credentials and its
// HTTP client (one pool of connections), and one pool for the registries, while each
// keeps its own region, credentials and meter.
func TestFleetTargetsShareOneHTTPClient(t *testing.T) {
	f := simtest.StartFleet(t, "../testdata/fleet/cross-account.yaml")
	info := f.Info()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := Config{Region: info.Region, EndpointURL: info.Endpoint, StateDir: t.TempDir(), Retryer: NoBackoff(3),
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")}
	targets, _, err := Targets(ctx, FleetConfig{Base: base, RoleARN: "arn:aws:iam::{account}:role/ptcdoctor-audit",
		Accounts: []string{"222222222222", "333333333333"}, Regions: []string{"us-east-1", "eu-west-1"}})
	if err != nil || len(targets) != 4 {
		t.Fatalf("targets %v: %v", targets, err)
	}
	var first *Account
	for _, tg := range targets {
		acc, err := OpenTarget(ctx, base, tg)
		if err != nil {
			t.Fatalf("%s: %v", tg, err)
		}
		id, err := acc.Whoami(ctx)
		if err != nil || id.Account != tg.Account || acc.Region() != tg.Region {
			t.Fatalf("%s: account %q region %q (%v)", tg, id.Account, acc.Region(), err)
		}
		if calls, _, _ := acc.Calls(); calls["GetCallerIdentity"] != 1 {
			t.Fatalf("%s: its own meter counted %v", tg, calls)
		}
		if first == nil {
			first = acc
			continue
		}
		if acc.aws.HTTPClient.(meteredClient).inner != first.aws.HTTPClient.(meteredClient).inner {
			t.Fatalf("%s has an HTTP client of its own", tg)
		}
		if acc.registryTransport() != first.registryTransport() {
			t.Fatalf("%s has a registry transport of its own", tg)
		}
	}
}
