package main

import (
	_ "embed"
	"errors"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"go.yaml.in/yaml/v3"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
)

// The demo fleet (--demo-fleet) is to a fleet what --demo is to one account: an
// Organization of several accounts and regions served in process by the stand-in, looked
// at as a platform team would (a role assumed in every account of the Organization), with
// writes allowed. Nothing leaves the machine.

//go:embed demo-fleet.yaml
var demoFleetScenario []byte

//go:embed demo-fleet-config.yaml
var demoFleetConfig []byte

// demoFleetRole is the role the demo fleet is read through, in every account.
const demoFleetRole = "arn:aws:iam::{account}:role/ptcdoctor-audit"

// demoFleetRegions are the regions it is looked in unless --regions says otherwise.
var demoFleetRegions = []string{"us-east-1", "eu-west-1"}

// startDemoFleet starts the demo fleet's stand-in and describes the fleet on it. The stand-in
// serves until the process ends, as --demo's does.
func (g *globals) startDemoFleet(ff *fleetFlags, base ecrops.Config) (ecrops.FleetConfig, error) {
	// Its own role, given back (the fix commands doctor prints name a target so), and
	// --accounts, --regions narrow it; nothing else names its accounts.
	if g.demo || len(g.profiles) > 0 || g.endpointURL != "" || g.region != "" || ff.profilePattern != "" ||
		(ff.roleARN != "" && ff.roleARN != demoFleetRole) {
		return ecrops.FleetConfig{}, usageError{errors.New("--demo-fleet names its own accounts and credentials: give it alone, or with --accounts and --regions (us-east-1,eu-west-1 by default; all works)")}
	}
	sc, err := sim.ParseScenario(demoFleetScenario)
	if err != nil {
		return ecrops.FleetConfig{}, err
	}
	f, err := sim.NewFleet(sc)
	if err != nil {
		return ecrops.FleetConfig{}, err
	}
	if err := f.Start("127.0.0.1:0"); err != nil {
		return ecrops.FleetConfig{}, err
	}
	info := f.Info()
	base.Profile, base.Region, base.EndpointURL = "", info.Region, info.Endpoint
	base.Credentials = credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")
	if base.Resolve == nil {
		base.Resolve = map[string]string{}
	}
	for h, u := range info.Resolve {
		base.Resolve[h] = u
	}
	base.StateDir = g.stateDir()
	fc := ecrops.FleetConfig{Base: base, RoleARN: demoFleetRole, Organization: len(ff.accounts) == 0, Accounts: ff.accounts, Regions: demoFleetRegions}
	switch {
	case len(ff.regions) == 1 && ff.regions[0] == "all":
		fc.Regions, fc.AllRegions = nil, true
	case len(ff.regions) > 0:
		fc.Regions = ff.regions
	}
	return fc, nil
}

// loadConfig is the config of what the flags name: the demo's and the demo fleet's are
// their own (a person's watch list is not checked against a stand-in); else the file.
func (g *globals) loadConfig(path string) (config, error) {
	if g.demoFleet && path == "" {
		var c config
		err := yaml.Unmarshal(demoFleetConfig, &c)
		return c, err
	}
	return loadConfig(path, g.demo)
}
