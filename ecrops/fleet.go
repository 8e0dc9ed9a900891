package ecrops

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// A fleet is every account-region a platform team runs caches in. FleetConfig names them
// from what people already have (profiles, a role to assume in given accounts, or an AWS
// Organization's accounts); Targets turns it into account-regions; EachTarget opens and
// works on them in parallel. Credentials always come from the SDK: a profile's chain, or
// stscreds.AssumeRoleProvider on the base credentials; none are made or kept here.

// FleetConfig says which account-regions to look at.
type FleetConfig struct {
	// Base is what every target shares (endpoint, resolve map, rates, retry, read-only,
	// journal); its Profile (or Credentials) are the credentials that assume RoleARN and
	// list the Organization's accounts.
	Base Config
	// Profiles are targets, one account each, with their own credentials.
	Profiles []string
	// ProfilePattern adds every profile of the shared config and credentials files whose
	// name matches (path.Match: "prod-*").
	ProfilePattern string
	// RoleARN is assumed in each account: "arn:aws:iam::{account}:role/NAME".
	RoleARN string
	// Accounts are the accounts RoleARN is assumed in.
	Accounts []string
	// Organization adds every active account of the Organization (ListAccounts, with the
	// base credentials, which must be the management account's or a delegated admin's).
	Organization bool
	// Regions: each target account in each of these; none: the profile's (or Base's) region.
	Regions []string
	// AllRegions keeps, of CandidateRegions, those where the account has at least one
	// pull through cache rule (or whose rules could not be read: that is not "none").
	AllRegions bool
	// SessionName names the assumed-role sessions (CloudTrail shows it); default ptcdoctor.
	SessionName string
}

// Target is one account-region and how to reach it.
type Target struct {
	// Source is how the person named it: "profile prod", "account 222222222222".
	Source      string
	Profile     string
	RoleARN     string
	Account     string // known beforehand for a role; "" for a profile until it is scanned
	AccountName string // from Organizations
	Region      string

	creds   aws.CredentialsProvider // the assumed role's, shared by the account's regions
	sdk     *sdkShare               // what the fleet's targets share of the SDK (nil: each loads its own)
	refused error                   // the account's credentials were refused: the target fails with this, unopened
}

// Refused is why the target's account could not be reached at all (its credentials were
// refused, its role could not be assumed): nil when they answered.
func (t Target) Refused() error { return t.refused }

// String names the target in messages: its source and region.
func (t Target) String() string {
	s := t.Source
	if t.AccountName != "" {
		s += " (" + t.AccountName + ")"
	}
	return s + " " + t.Region
}

// Skipped is an account-region discovery left out, and why (a region not enabled), or an
// account left out whole (Region "": NoRulesAnywhere).
type Skipped struct {
	Source, Region, Reason string
}

// NoRulesAnywhere is why an account AllRegions looked in has no target.
const NoRulesAnywhere = "no pull through cache rule in any region"

// CandidateRegions are the commercial regions ECR serves, which AllRegions looks in.
var CandidateRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	"af-south-1", "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7",
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3",
	"eu-south-1", "eu-south-2", "eu-north-1",
	"il-central-1", "me-south-1", "me-central-1", "mx-central-1", "sa-east-1",
}

// source is where one account's credentials come from.
type source struct {
	label, profile, roleARN, account, name string
	creds                                  aws.CredentialsProvider
}

// Targets turns the fleet's description into account-regions. An account whose rules
// could not be listed in a region that AllRegions looks in is kept as a target (its scan
// will say what failed); one whose region is not enabled is skipped, and said so.
func Targets(ctx context.Context, fc FleetConfig) ([]Target, []Skipped, error) {
	accounts, err := FleetAccounts(ctx, fc)
	if err != nil {
		return nil, nil, err
	}
	var targets []Target
	var skipped []Skipped
	seen := map[string]int{} // account/region: its target's index
	for _, t := range accounts {
		found, skip := AccountTargets(ctx, fc, t)
		for _, ft := range found {
			key := ft.sameAs()
			if i, ok := seen[key]; ok && key != "" {
				// Two sources reach the same account (two profiles of it): it is scanned
				// once, under both names.
				targets[i].Source += " (also " + ft.Source + ")"
				continue
			}
			if key != "" {
				seen[key] = len(targets)
			}
			targets = append(targets, ft)
		}
		skipped = append(skipped, skip...)
		if len(found) == 0 {
			skipped = append(skipped, Skipped{Source: t.Source, Reason: NoRulesAnywhere})
		}
	}
	if len(targets) == 0 && len(skipped) == 0 {
		return nil, nil, errors.New("the fleet has no account-regions: name --profile, --profiles, --assume-role-arn with --accounts or --organization")
	}
	return targets, skipped, nil
}

// sameAs is what makes two targets the same account-region ("" when the account is not
// known, its credentials having been refused).
func (t Target) sameAs() string {
	if t.Account == "" || t.refused != nil {
		return ""
	}
	return t.Account + "/" + t.Region
}

// Found is what StreamTargets hands on: an account's account-regions, as soon as they are
// known, and what was left out of them.
type Found struct {
	Account int      // its index in the accounts given
	Targets []Target // new account-regions only
	Skipped []Skipped
	// Also are the account-regions another source reached already (two profiles of one
	// account): scanned once, under the first source; each names the other source.
	Also []Also
}

// Also is a target named a second time, by another source.
type Also struct {
	Target Target // as it was found first
	Source string // the other source
}

// Reached are the account-regions found so far, each as the first source that reached it
// found it: another source reaching one (two profiles of one account) is named with it
// ("also"), never scanned twice. Not safe for concurrent use: its callers lock.
type Reached map[string]Target

// Add keeps the targets no source reached before (fresh); the others come back as Also.
func (r Reached) Add(targets []Target) (fresh []Target, also []Also) {
	for _, t := range targets {
		key := t.sameAs()
		if first, ok := r[key]; ok && key != "" {
			also = append(also, Also{Target: first, Source: t.Source})
			continue
		}
		if key != "" {
			r[key] = t
		}
		fresh = append(fresh, t)
	}
	return fresh, also
}

// StreamTargets looks for every account's account-regions at once (AccountTargets, at
// most 8 accounts at a time: --regions all asks each candidate region) and hands each
// account's to found as soon as they are known, one call at a time, so that scans start
// before every account's regions are found.
func StreamTargets(ctx context.Context, fc FleetConfig, accounts []Target, found func(Found)) {
	var mu sync.Mutex
	seen := Reached{}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, a := range accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			targets, skipped := AccountTargets(ctx, fc, a)
			<-sem
			f := Found{Account: i, Skipped: skipped}
			if len(targets) == 0 {
				f.Skipped = append(f.Skipped, Skipped{Source: a.Source, Reason: NoRulesAnywhere})
			}
			mu.Lock()
			defer mu.Unlock()
			f.Targets, f.Also = seen.Add(targets)
			found(f)
		}()
	}
	wg.Wait()
}

// FleetAccounts are the fleet's accounts, one Target each with no region yet: Targets
// without looking for regions, which the interface lists at once while AccountTargets
// looks (--regions all asks every candidate region).
func FleetAccounts(ctx context.Context, fc FleetConfig) ([]Target, error) {
	sources, err := fleetSources(ctx, fc)
	if err != nil {
		return nil, err
	}
	out := make([]Target, len(sources))
	sdk := &sdkShare{loaded: map[string]*loadedConfig{}}
	for i, s := range sources {
		out[i] = Target{Source: s.label, Profile: s.profile, RoleARN: s.roleARN, Account: s.account, AccountName: s.name, creds: s.creds, sdk: sdk}
	}
	return out, nil
}

// AccountTargets are one account's account-regions: in each of fc.Regions, in those where
// it has rules (AllRegions), or in the base region. The account's credentials are asked
// first, once, in a region every account has enabled: an account whose credentials are
// refused (invalid or expired keys, a role that cannot be assumed) is one failed target,
// with AWS's answer, never a region "not enabled" (AWS refuses a call to an opt-in region
// the account has not enabled with the same UnrecognizedClientException as an unknown key).
func AccountTargets(ctx context.Context, fc FleetConfig, t Target) ([]Target, []Skipped) {
	t, err := verifyAccount(ctx, fc, t)
	if err != nil {
		// Each region named fails by name; with AllRegions, one target where it was asked.
		t.refused = err
		if len(fc.Regions) == 0 {
			return []Target{t}, nil
		}
	}
	switch {
	case len(fc.Regions) > 0:
		var out []Target
		for _, r := range fc.Regions {
			t.Region = r
			out = append(out, t)
		}
		return out, nil
	case fc.AllRegions:
		return regionsWithRules(ctx, fc.Base, t)
	}
	t.Region = fc.Base.Region // "" means the profile's own
	return []Target{t}, nil
}

// fleetSources lists the accounts' credential sources: profiles, then assumed roles.
func fleetSources(ctx context.Context, fc FleetConfig) ([]source, error) {
	var out []source
	profiles := append([]string(nil), fc.Profiles...)
	if fc.ProfilePattern != "" {
		if _, err := path.Match(fc.ProfilePattern, ""); err != nil {
			return nil, fmt.Errorf("--profiles %q: %w", fc.ProfilePattern, err)
		}
		names, err := ConfiguredProfiles()
		if err != nil {
			return nil, err
		}
		matched := 0
		for _, n := range names {
			if ok, _ := path.Match(fc.ProfilePattern, n); ok && !contains(profiles, n) {
				profiles = append(profiles, n)
				matched++
			}
		}
		if matched == 0 {
			return nil, fmt.Errorf("--profiles %q: no profile of the AWS config matches (profiles: %s)", fc.ProfilePattern, strings.Join(names, ", "))
		}
	}
	named := map[string]bool{}
	for _, p := range profiles {
		if !named[p] { // a profile named twice is one account
			named[p] = true
			out = append(out, source{label: "profile " + p, profile: p})
		}
	}
	if fc.RoleARN == "" {
		if len(fc.Accounts) > 0 || fc.Organization {
			return nil, errors.New("--accounts and --organization need --assume-role-arn 'arn:aws:iam::{account}:role/NAME'")
		}
		if len(out) == 0 {
			out = append(out, source{label: "profile " + orDefault(fc.Base.Profile, "default"), profile: fc.Base.Profile, creds: fc.Base.Credentials})
		}
		return out, nil
	}
	if !strings.Contains(fc.RoleARN, "{account}") || !strings.HasPrefix(fc.RoleARN, "arn:") {
		return nil, fmt.Errorf("--assume-role-arn %q: give a role ARN with {account} where the account ID goes, like arn:aws:iam::{account}:role/ptcdoctor-audit", fc.RoleARN)
	}
	base, err := baseConfig(ctx, fc.Base)
	if err != nil {
		return nil, err
	}
	type acct struct{ id, name string }
	var accounts []acct
	for _, id := range fc.Accounts {
		accounts = append(accounts, acct{id: id})
	}
	if fc.Organization {
		listed, err := organizationAccounts(ctx, base)
		if err != nil {
			return nil, err
		}
		for _, a := range listed {
			accounts = append(accounts, acct{id: aws.ToString(a.Id), name: aws.ToString(a.Name)})
		}
	}
	if len(accounts) == 0 {
		return nil, errors.New("--assume-role-arn needs --accounts or --organization")
	}
	session := orDefault(fc.SessionName, "ptcdoctor")
	stsClient := sts.NewFromConfig(base)
	seen := map[string]bool{}
	for _, a := range accounts {
		if seen[a.id] {
			continue
		}
		seen[a.id] = true
		role := strings.ReplaceAll(fc.RoleARN, "{account}", a.id)
		provider := stscreds.NewAssumeRoleProvider(stsClient, role, func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = session })
		out = append(out, source{label: "account " + a.id, roleARN: role, account: a.id, name: a.name,
			creds: aws.NewCredentialsCache(provider)})
	}
	return out, nil
}

// baseConfig loads the base credentials' SDK configuration. STS and Organizations are
// global; a region is still needed to sign, so us-east-1 stands in for none.
func baseConfig(ctx context.Context, cfg Config) (aws.Config, error) {
	opts, err := loadOptions(cfg)
	if err != nil {
		return aws.Config{}, err
	}
	c, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	return c, nil
}

// organizationAccounts lists the Organization's active accounts.
func organizationAccounts(ctx context.Context, base aws.Config) ([]orgtypes.Account, error) {
	var out []orgtypes.Account
	p := organizations.NewListAccountsPaginator(organizations.NewFromConfig(base), &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("--organization: Organizations ListAccounts: %w", err)
		}
		for _, a := range page.Accounts {
			if a.Status == orgtypes.AccountStatusActive || a.Status == "" {
				out = append(out, a)
			}
		}
	}
	return out, nil
}

// regionsWithRules looks in every candidate region for the account's rules.
func regionsWithRules(ctx context.Context, base Config, t Target) ([]Target, []Skipped) {
	type answer struct {
		region string
		keep   bool
		why    string
	}
	answers := make([]answer, len(CandidateRegions))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, r := range CandidateRegions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			tt := t
			tt.Region = r
			answers[i] = answer{region: r}
			acc, err := OpenTarget(ctx, base, tt)
			if err != nil {
				answers[i].keep = true // the scan will name what failed
				return
			}
			out, err := acc.ecr.DescribePullThroughCacheRules(ctx, &ecr.DescribePullThroughCacheRulesInput{MaxResults: aws.Int32(1)})
			switch {
			case RegionNotEnabled(err) && OptInRegion(r):
				// The account's credentials answered in a region every account has
				// enabled (verifyAccount): refused in an opt-in one, it is not enabled.
				// Refused in a default region, it is kept: its scan names AWS's answer.
				answers[i].why = "opt-in regions not enabled for the account"
			case err != nil:
				answers[i].keep = true
			case len(out.PullThroughCacheRules) > 0:
				answers[i].keep = true
			}
		}()
	}
	wg.Wait()
	var found []Target
	var skipped []Skipped
	for _, a := range answers {
		tt := t
		tt.Region = a.region
		switch {
		case a.keep:
			found = append(found, tt)
		case a.why != "":
			skipped = append(skipped, Skipped{Source: t.Source, Region: a.region, Reason: a.why})
		}
	}
	return found, skipped
}

// verifyAccount asks STS who the account's credentials are, in a region every account
// has enabled: the first of fc.Regions, or the base region, unless it is an opt-in region
// (then us-east-1). A profile's target learns its account here.
func verifyAccount(ctx context.Context, fc FleetConfig, t Target) (Target, error) {
	home := t
	home.Region = orDefault(fc.Base.Region, "us-east-1")
	if len(fc.Regions) > 0 {
		home.Region = fc.Regions[0]
	}
	if OptInRegion(home.Region) {
		home.Region = "us-east-1"
	}
	acc, err := OpenTarget(ctx, fc.Base, home)
	if err != nil {
		t.Region = home.Region
		return t, err
	}
	id, err := acc.Whoami(ctx)
	if err != nil {
		t.Region = home.Region
		return t, fmt.Errorf("the credentials of %s were refused: STS GetCallerIdentity in %s: %w", t.Source, home.Region, err)
	}
	if t.Account == "" {
		t.Account = id.Account
	}
	return t, nil
}

// optInRegions are the regions an account must enable before it can use them; every
// other region (us-east-1, eu-west-1, ...) is enabled in every account and never answers
// "not enabled".
var optInRegions = map[string]bool{
	"af-south-1": true, "ap-east-1": true, "ap-east-2": true, "ap-south-2": true,
	"ap-southeast-3": true, "ap-southeast-4": true, "ap-southeast-5": true, "ap-southeast-6": true, "ap-southeast-7": true,
	"ca-west-1": true, "eu-central-2": true, "eu-south-1": true, "eu-south-2": true,
	"il-central-1": true, "me-central-1": true, "me-south-1": true, "mx-central-1": true,
}

// OptInRegion reports whether an account must enable region before using it.
func OptInRegion(region string) bool { return optInRegions[region] }

// RegionNotEnabled tells AWS's answer in an opt-in region the account has not enabled.
func RegionNotEnabled(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "UnrecognizedClientException" || ae.ErrorCode() == "InvalidClientTokenId")
}

// RegionRefused is the refusal of a scan, in an opt-in region, whose every ECR read was
// refused as AWS refuses calls to an opt-in region the account has not enabled (STS,
// being global, still answered): one line for the target, not a "not checked" for every
// check. A region every account has enabled is never "not enabled": refused there, each
// read says what AWS answered.
func RegionRefused(s *model.Snapshot) *model.PartError {
	if len(s.Errors) == 0 || s.PartFailed(model.PartRules) == nil || !OptInRegion(s.Region) {
		return nil
	}
	for _, e := range s.Errors {
		if e.Code != "UnrecognizedClientException" {
			return nil
		}
	}
	return &s.Errors[0]
}

// OpenTarget opens one target's account, with base's settings and the target's
// credentials and region.
func OpenTarget(ctx context.Context, base Config, t Target) (*Account, error) {
	cfg := base
	cfg.Region = orDefault(t.Region, base.Region)
	key := "profile " + cfg.Profile
	if t.creds != nil {
		cfg.Profile, cfg.Credentials, cfg.AssumedRole = "", t.creds, t.RoleARN
		key = "assumed roles"
	} else if t.Profile != "" {
		cfg.Profile, cfg.Credentials = t.Profile, nil
		key = "profile " + t.Profile
	}
	var acc *Account
	var err error
	if t.sdk == nil {
		acc, err = Open(ctx, cfg)
	} else {
		var awsCfg aws.Config
		if awsCfg, err = t.sdk.config(ctx, key, cfg); err == nil {
			acc, err = open(ctx, cfg, awsCfg)
		}
		if err == nil {
			acc.sdk = t.sdk
		}
	}
	if err != nil && t.RoleARN != "" {
		return nil, fmt.Errorf("cannot assume %s: %w", t.RoleARN, errors.Unwrap(err))
	}
	return acc, err
}

// sdkShare is what a fleet's targets share of the SDK: the configuration of each source
// of credentials (a profile; the base credentials that assume the roles) is loaded once,
// not once per target, and its HTTP client, one pool of connections, serves every target
// of that source, whatever its account (each call is signed for its own) and region (the
// pool is per host); and one pool of connections serves every target's registry calls. Loaded per target, each of 150 targets parsed AWS_CA_BUNDLE into a
// certificate pool of its own (34 MB in all) and had a pool of connections of its own,
// whose idle connections outlived the target.
type sdkShare struct {
	mu     sync.Mutex
	loaded map[string]*loadedConfig

	registryOnce sync.Once
	registry     *http.Transport // every target's registry calls (upstream.go)

	probes probeShare // what the probes of a run's targets learned (probeshare.go)
}

type loadedConfig struct {
	once sync.Once
	cfg  aws.Config
	err  error
}

// sharedIdleConns is how many idle connections to one host the shared client keeps: as
// many as the fleet's targets may have calls in flight (16 targets at 8 calls each by
// default, 150 at once in the benchmark), so that a connection is reused, not dialled again.
const sharedIdleConns = 1024

// config is the SDK configuration of a target whose source key names: loaded with cfg's
// options the first time, then copied with the target's region and credentials.
func (s *sdkShare) config(ctx context.Context, key string, cfg Config) (aws.Config, error) {
	s.mu.Lock()
	l, ok := s.loaded[key]
	if !ok {
		l = &loadedConfig{}
		s.loaded[key] = l
	}
	s.mu.Unlock()
	l.once.Do(func() {
		opts, err := loadOptions(cfg)
		if err == nil {
			l.cfg, err = config.LoadDefaultConfig(ctx, opts...)
		}
		if err != nil {
			l.err = fmt.Errorf("AWS configuration: %w", err)
			return
		}
		client, ok := l.cfg.HTTPClient.(*awshttp.BuildableClient)
		if l.cfg.HTTPClient == nil {
			client, ok = awshttp.NewBuildableClient(), true
		}
		if ok {
			l.cfg.HTTPClient = client.WithTransportOptions(func(tr *http.Transport) {
				tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 0, sharedIdleConns
			})
		}
	})
	if l.err != nil {
		return aws.Config{}, l.err
	}
	c := l.cfg.Copy()
	c.APIOptions = slices.Clone(c.APIOptions)
	if cfg.Region != "" {
		c.Region = cfg.Region
	}
	if cfg.Credentials != nil {
		c.Credentials = cfg.Credentials
		if _, cached := c.Credentials.(*aws.CredentialsCache); !cached {
			c.Credentials = aws.NewCredentialsCache(c.Credentials)
		}
	}
	return c, nil
}

// EachTarget opens every target and runs work on it: at most parallel targets at once
// (each with its own calls in flight and rate limits, as Config says), and done with each
// result as its target finishes, one call at a time. The targets' probes share what they
// learn while it runs (probeshare.go). A target that cannot be opened or
// whose work fails is done with its error; the others go on.
func EachTarget[R any](ctx context.Context, base Config, targets []Target, parallel int,
	work func(context.Context, Target, *Account) (R, error), done func(Target, R, error)) {
	in := make(chan Target, len(targets))
	for _, t := range targets {
		in <- t
	}
	close(in)
	defer FleetRun(targets)()
	EachTargetFrom(ctx, base, in, parallel, work, done)
}

// EachTargetFrom is EachTarget over targets handed on as they are found, until in is
// closed. The caller makes it a run (FleetRun, on the accounts the targets come from).
func EachTargetFrom[R any](ctx context.Context, base Config, in <-chan Target, parallel int,
	work func(context.Context, Target, *Account) (R, error), done func(Target, R, error)) {
	if parallel <= 0 {
		parallel = 8
	}
	sem := make(chan struct{}, parallel)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for t := range in {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				var zero R
				mu.Lock()
				done(t, zero, ctx.Err())
				mu.Unlock()
				return
			}
			defer func() { <-sem }()
			var r R
			acc, err := (*Account)(nil), t.refused
			if err == nil {
				acc, err = OpenTarget(ctx, base, t)
			}
			if err == nil {
				acc.inRun = true // its probes share the run's answers
				r, err = work(ctx, t, acc)
			}
			mu.Lock()
			done(t, r, err)
			mu.Unlock()
		}()
	}
	wg.Wait()
}

// ConfiguredProfiles lists the profile names of the shared config and credentials files
// (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, or ~/.aws/). Only the names are read:
// what a profile holds is the SDK's to read.
func ConfiguredProfiles() ([]string, error) {
	home, _ := os.UserHomeDir()
	files := []struct {
		path   string
		config bool
	}{
		{orDefault(os.Getenv("AWS_CONFIG_FILE"), filepath.Join(home, ".aws", "config")), true},
		{orDefault(os.Getenv("AWS_SHARED_CREDENTIALS_FILE"), filepath.Join(home, ".aws", "credentials")), false},
	}
	seen := map[string]bool{}
	for _, f := range files {
		fh, err := os.Open(f.path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if !strings.HasPrefix(line, "[") || !strings.HasSuffix(line, "]") {
				continue
			}
			name := strings.TrimSpace(line[1 : len(line)-1])
			if f.config {
				if name != "default" {
					var ok bool
					if name, ok = strings.CutPrefix(name, "profile "); !ok {
						continue // [sso-session x], [services y]
					}
					name = strings.TrimSpace(name)
				}
			}
			if name != "" {
				seen[name] = true
			}
		}
		fh.Close()
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
