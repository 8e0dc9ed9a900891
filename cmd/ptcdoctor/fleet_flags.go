package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
)

// profilesValue is --profile: given once, the account to look at; given again (doctor and
// fix only), one account of a fleet each time.
type profilesValue struct{ g *globals }

func (v profilesValue) String() string { return strings.Join(v.g.profiles, ",") }
func (v profilesValue) Type() string   { return "string" }
func (v profilesValue) Set(s string) error {
	v.g.profiles = append(v.g.profiles, s)
	v.g.profile = v.g.profiles[0]
	return nil
}

// fleetFlags name the account-regions of a fleet (doctor and fix).
type fleetFlags struct {
	profilePattern string
	roleARN        string
	accounts       []string
	organization   bool
	regions        []string
	parallel       int
	perTarget      int
	continueOnFail bool // fix: go on after a target's failure
}

func (ff *fleetFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&ff.profilePattern, "profiles", "", "every profile of the AWS config whose name matches this pattern (prod-*), one account each")
	f.StringVar(&ff.roleARN, "assume-role-arn", "", "a role to assume in each account of --accounts or --organization: arn:aws:iam::{account}:role/NAME")
	f.StringSliceVar(&ff.accounts, "accounts", nil, "accounts to assume --assume-role-arn in (comma-separated 12-digit IDs)")
	f.BoolVar(&ff.organization, "organization", false, "every active account of the AWS Organization (ListAccounts with the --profile's credentials), through --assume-role-arn")
	f.StringSliceVar(&ff.regions, "regions", nil, "regions to look in, comma-separated, or all: every region where the account has pull through cache rules")
	f.IntVar(&ff.parallel, "parallel", 16, "account-regions scanned at once (each keeps to its own --rate limits)")
	f.IntVar(&ff.perTarget, "target-concurrency", 8, "calls in flight to one account-region")
}

// active reports whether the flags name a fleet rather than one account-region.
func (ff *fleetFlags) active(g *globals) bool {
	return g.demoFleet || len(g.profiles) > 1 || ff.profilePattern != "" || ff.roleARN != "" || len(ff.accounts) > 0 ||
		ff.organization || len(ff.regions) > 1 || (len(ff.regions) == 1 && ff.regions[0] == "all")
}

// oneRegion applies --regions to a run over one account (active is false): one region
// named is the region looked at, as --region would be; with --region too, refused, as
// over a fleet. Left unread, it was ignored and the profile's region scanned and fixed.
func (ff *fleetFlags) oneRegion(g *globals) error {
	if len(ff.regions) == 0 {
		return nil
	}
	switch {
	case g.region != "":
		return usageError{errors.New("give --region or --regions, not both")}
	case g.demo:
		return usageError{errors.New("--demo is one account in one region: --regions does not apply (--demo-fleet has several regions)")}
	}
	g.region = ff.regions[0]
	return nil
}

// config turns the flags into the fleet's description, on the base configuration.
func (ff *fleetFlags) config(g *globals, base ecrops.Config) (ecrops.FleetConfig, error) {
	if g.demo {
		return ecrops.FleetConfig{}, usageError{errors.New("--demo is one account; serve a fleet with ptcdoctor sim --scenario FILE and point --endpoint-url at it")}
	}
	if ff.parallel < 1 || ff.perTarget < 1 {
		return ecrops.FleetConfig{}, usageError{errors.New("--parallel and --target-concurrency: 1 or more")}
	}
	for _, id := range ff.accounts {
		if !accountIDPattern.MatchString(id) {
			return ecrops.FleetConfig{}, usageError{fmt.Errorf("--accounts %q: an AWS account ID is 12 digits", id)}
		}
	}
	if g.region != "" && len(ff.regions) > 0 {
		return ecrops.FleetConfig{}, usageError{errors.New("give --region or --regions, not both")}
	}
	base.Concurrency = ff.perTarget
	if g.demoFleet {
		return g.startDemoFleet(ff, base)
	}
	fc := ecrops.FleetConfig{Base: base, ProfilePattern: ff.profilePattern, RoleARN: ff.roleARN,
		Accounts: ff.accounts, Organization: ff.organization}
	if len(g.profiles) > 1 || (ff.profilePattern != "" && len(g.profiles) == 1) {
		fc.Profiles = g.profiles
		fc.Base.Profile = ""
	}
	if len(g.profiles) == 1 && ff.roleARN != "" {
		fc.Base.Profile = g.profiles[0] // the credentials that assume the role
	}
	switch {
	case len(ff.regions) == 1 && ff.regions[0] == "all":
		fc.AllRegions = true
	default:
		fc.Regions = ff.regions
	}
	if fc.Base.Region == "" && len(fc.Regions) > 0 {
		fc.Base.Region = fc.Regions[0] // where STS and Organizations are signed for
	}
	return fc, nil
}

// targetArgs are the flags that name one target, for a command printed to be run as is.
func targetArgs(t ecrops.Target) string {
	var b strings.Builder
	if t.RoleARN != "" {
		b.WriteString(" --assume-role-arn " + shellQuote(strings.Replace(t.RoleARN, t.Account, "{account}", 1)) + " --accounts " + t.Account)
		b.WriteString(" --regions " + shellQuote(t.Region))
		return b.String()
	}
	if t.Profile != "" {
		b.WriteString(" --profile " + shellQuote(t.Profile))
	}
	if t.Region != "" {
		b.WriteString(" --region " + shellQuote(t.Region))
	}
	return b.String()
}
