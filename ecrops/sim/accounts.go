package sim

import (
	"errors"
	"fmt"
	"strings"
)

// A fleet scenario describes several accounts, each in its regions, behind one endpoint
// (fleet.go serves it). Each account-region is expanded into a one-account scenario and
// served by a Server of its own, so that every account-region has its own state, faults
// and throttling, as AWS's do. What is global in AWS is shared: the upstream registries
// (one Docker Hub for everyone), the clock, IAM principals across an account's regions.

// FleetAccount is one account of a fleet scenario.
type FleetAccount struct {
	ID    string `yaml:"id"`
	Name  string `yaml:"name"`
	Email string `yaml:"email"`
	// Principals are the account's IAM users and roles: IAM is global, so they are the same
	// in every region of the account. Access keys are unique across the fleet.
	Principals []Principal   `yaml:"principals"`
	Regions    []FleetRegion `yaml:"regions"`
}

// FleetRegion is what one account holds in one region: the regional fields of a
// one-account scenario. A region the account does not list is not enabled: calls to it
// are refused as AWS refuses them in an opt-in region that is not enabled.
type FleetRegion struct {
	Region         string       `yaml:"region"`
	Secrets        []Secret     `yaml:"secrets"`
	Rules          []Rule       `yaml:"rules"`
	Templates      []Template   `yaml:"templates"`
	Repositories   []Repository `yaml:"repositories"`
	RegistryPolicy string       `yaml:"registryPolicy"`
	Behaviours     Behaviours   `yaml:"behaviours"`
	Faults         []Fault      `yaml:"faults"`
	Generate       *Generate    `yaml:"generate"`
}

// Organization makes the accounts an AWS Organization: its management account may call
// Organizations ListAccounts, which lists every account of the scenario.
type Organization struct {
	ID                string `yaml:"id"` // o-...; default derived from the management account
	ManagementAccount string `yaml:"managementAccount"`
}

// Fleet-wide bounds, on top of each account-region's own (scenario.go).
const (
	maxFleetAccounts = 500
	maxFleetMembers  = 1000    // account-regions
	maxFleetImages   = 1000000 // generated, over the whole fleet
)

// The role every generated account has, which the management account may assume.
const GeneratedAuditRole = "ptcdoctor-audit"

// IsFleet tells a fleet scenario (accounts:, or generate.accounts) from a one-account one.
func (s *Scenario) IsFleet() bool {
	return len(s.Accounts) > 0 || (s.Generate != nil && s.Generate.Accounts > 0)
}

// fleetAccounts lists the accounts, the generated ones after those the scenario names.
// The first generated account, in a scenario that names none, holds the default admin
// user (DefaultAccessKeyID); every generated account has GeneratedAuditRole, trusting the
// organization's management account.
func (s *Scenario) fleetAccounts() []FleetAccount {
	out := append([]FleetAccount(nil), s.Accounts...)
	g := s.Generate
	if g == nil || g.Accounts <= 0 {
		return out
	}
	mgmt := s.managementAccount()
	if mgmt == "" {
		mgmt = generatedAccountID(1)
	}
	per := *g
	per.Accounts, per.Regions, per.Faults = 0, nil, nil
	for n := 1; n <= g.Accounts; n++ {
		id := generatedAccountID(n)
		a := FleetAccount{ID: id, Name: fmt.Sprintf("gen-%03d", n), Email: fmt.Sprintf("gen-%03d@example.com", n)}
		if n == 1 && len(s.Accounts) == 0 {
			a.Principals = append(a.Principals, Principal{Name: "admin", Kind: "user", AccessKeyID: DefaultAccessKeyID,
				SecretAccessKey: DefaultSecretAccessKey, Allow: []string{"*"}})
		}
		a.Principals = append(a.Principals, Principal{Name: GeneratedAuditRole, Kind: "role",
			AccessKeyID: "AKIAGENROLE" + id, SecretAccessKey: "ptcdoctor-sim-role-secret-" + id,
			Allow: []string{"*"}, Trust: []string{mgmt}})
		for _, r := range g.Regions {
			gen := per
			a.Regions = append(a.Regions, FleetRegion{Region: r, Generate: &gen, Faults: append([]Fault(nil), g.Faults...)})
		}
		out = append(out, a)
	}
	return out
}

func generatedAccountID(n int) string { return fmt.Sprintf("%012d", 100000000000+n) }

// managementAccount is the organization's management account: the one named, or the
// first account of the scenario; "" without an organization.
func (s *Scenario) managementAccount() string {
	if s.Organization == nil && (s.Generate == nil || s.Generate.Accounts == 0) {
		return ""
	}
	if s.Organization != nil && s.Organization.ManagementAccount != "" {
		return s.Organization.ManagementAccount
	}
	if len(s.Accounts) > 0 {
		return s.Accounts[0].ID
	}
	return generatedAccountID(1)
}

func (s *Scenario) organizationID() string {
	if s.Organization != nil && s.Organization.ID != "" {
		return s.Organization.ID
	}
	return "o-" + strings.TrimLeft(s.managementAccount(), "0")[:min(10, len(strings.TrimLeft(s.managementAccount(), "0")))]
}

// member is one account-region of a fleet, as a one-account scenario.
type member struct {
	account FleetAccount
	region  string
	sc      *Scenario
}

// members expands the fleet into one scenario per account-region, each with what
// generate adds already in it (so that the union of the upstreams they need is known).
func (s *Scenario) members() []member {
	var out []member
	for _, a := range s.fleetAccounts() {
		for _, r := range a.Regions {
			m := &Scenario{
				Name:        fmt.Sprintf("%s/%s/%s", s.Name, a.ID, r.Region),
				Description: s.Description,
				Account:     Account{ID: a.ID, Region: r.Region},
				Principals:  append([]Principal(nil), a.Principals...),
				Secrets:     r.Secrets, Rules: r.Rules, Templates: r.Templates, Repositories: r.Repositories,
				RegistryPolicy: r.RegistryPolicy, Behaviours: r.Behaviours, Faults: r.Faults, Generate: r.Generate,
				Upstreams: append([]Upstream(nil), s.Upstreams...),
			}
			m.applyDefaults()
			out = append(out, member{account: a, region: r.Region, sc: m})
		}
	}
	return out
}

// checkFleet checks a fleet scenario: its own fields, then each account-region as a
// one-account scenario.
func (s *Scenario) checkFleet() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if s.Account != (Account{}) || len(s.Principals) > 0 || len(s.Secrets) > 0 || len(s.Rules) > 0 ||
		len(s.Templates) > 0 || len(s.Repositories) > 0 || s.RegistryPolicy != "" || len(s.Faults) > 0 {
		bad("a fleet scenario (accounts:) lists account, principals, secrets, rules, templates, repositories, registryPolicy and faults under accounts[] and accounts[].regions[], not at the top")
	}
	if g := s.Generate; g != nil {
		if g.Accounts < 0 || g.Accounts > maxFleetAccounts {
			bad("generate.accounts: 0 to %d", maxFleetAccounts)
		}
		if g.Accounts > 0 && len(g.Regions) == 0 {
			bad("generate.regions: name the regions each generated account is in, like [us-east-1, eu-west-1]")
		}
		for _, r := range g.Regions {
			if !regionRE.MatchString(r) {
				bad("generate.regions: %q is not a region name like us-east-1", r)
			}
		}
		if total := g.Accounts * len(g.Regions) * g.Rules * g.RepositoriesPerRule * g.ImagesPerRepository; total > maxFleetImages || total < 0 {
			bad("generate: %d images over the fleet; at most %d", total, maxFleetImages)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	accounts := s.fleetAccounts()
	if len(accounts) > maxFleetAccounts {
		bad("%d accounts; at most %d", len(accounts), maxFleetAccounts)
	}
	ids, keys := map[string]bool{}, map[string]string{}
	count := 0
	for i, a := range accounts {
		where := fmt.Sprintf("accounts[%d]", i)
		if !accountIDRE.MatchString(a.ID) {
			bad("%s.id %q: must be 12 digits", where, a.ID)
		}
		if ids[a.ID] {
			bad("%s.id %s: listed twice", where, a.ID)
		}
		ids[a.ID] = true
		if len(a.Regions) == 0 {
			bad("%s: list the regions the account is in (regions: [{region: us-east-1}])", where)
		}
		regions := map[string]bool{}
		for _, r := range a.Regions {
			if regions[r.Region] {
				bad("%s: region %q listed twice", where, r.Region)
			}
			regions[r.Region] = true
			count++
		}
		for _, p := range a.Principals {
			if other, ok := keys[p.AccessKeyID]; ok && other != a.ID+"/"+p.Name {
				bad("%s: principal %s: accessKeyId also used by %s; keys are unique across the fleet", where, p.Name, other)
			}
			keys[p.AccessKeyID] = a.ID + "/" + p.Name
		}
	}
	if count > maxFleetMembers {
		bad("%d account-regions; at most %d", count, maxFleetMembers)
	}
	if o := s.Organization; o != nil && o.ManagementAccount != "" && !ids[o.ManagementAccount] {
		bad("organization.managementAccount %q: not one of the accounts", o.ManagementAccount)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, m := range s.members() {
		if err := m.sc.check(); err != nil {
			return fmt.Errorf("account %s, region %s: %w", m.account.ID, m.region, err)
		}
		if m.sc.Generate != nil {
			if err := m.sc.withGenerated().check(); err != nil {
				return fmt.Errorf("account %s, region %s, with what generate adds: %w", m.account.ID, m.region, err)
			}
		}
	}
	return nil
}

// mergeUpstreams is the union of the upstreams the members need, by host: one Docker Hub
// for the whole fleet, holding every account's users and every repository any asks for.
func mergeUpstreams(members []*Scenario) []Upstream {
	var out []Upstream
	at := map[string]int{}
	for _, m := range members {
		for _, u := range m.Upstreams {
			i, ok := at[u.Host]
			if !ok {
				at[u.Host] = len(out)
				u.Accounts = append([]UpstreamAccount(nil), u.Accounts...)
				u.Repositories = append([]UpstreamContent(nil), u.Repositories...)
				u.AllowAccounts = append([]string(nil), u.AllowAccounts...)
				out = append(out, u)
				continue
			}
			have := &out[i]
			for _, acc := range u.Accounts {
				if !hasUser(have.Accounts, acc.Username) {
					have.Accounts = append(have.Accounts, acc)
				}
			}
			for _, r := range u.Repositories {
				if !hasRepo(have.Repositories, r.Name) {
					have.Repositories = append(have.Repositories, r)
				}
			}
			for _, a := range u.AllowAccounts {
				if !contains(have.AllowAccounts, a) {
					have.AllowAccounts = append(have.AllowAccounts, a)
				}
			}
			if have.Anonymous == nil {
				have.Anonymous = u.Anonymous
			}
			have.generated = have.generated.union(u.generated)
		}
	}
	return out
}

func hasUser(list []UpstreamAccount, name string) bool {
	for _, a := range list {
		if a.Username == name {
			return true
		}
	}
	return false
}

func hasRepo(list []UpstreamContent, name string) bool {
	for _, r := range list {
		if r.Name == name {
			return true
		}
	}
	return false
}
