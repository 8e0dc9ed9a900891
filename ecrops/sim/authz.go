package sim

import (
	"encoding/json"
	"strings"
)

// Each principal's permissions are action patterns, as an IAM policy's Action element
// holds them: "*", "ecr:*", "ecr:Describe*", on every resource (allow, deny), and
// statements that scope actions to resource ARNs with wildcards. An explicit deny wins
// over any allow.

const (
	decisionAllowed      = "allowed"
	decisionImplicitDeny = "implicitDeny"
	decisionExplicitDeny = "explicitDeny"
)

// decide is the principal's identity policy's answer for an action on a resource ("*"
// for actions that take none).
func (p *principal) decide(action, resource string) string {
	allowed := false
	for _, pat := range p.Deny {
		if actionMatches(pat, action) {
			return decisionExplicitDeny
		}
	}
	for _, pat := range p.Allow {
		allowed = allowed || actionMatches(pat, action)
	}
	for _, st := range p.Statements {
		if !st.matches(action, resource) {
			continue
		}
		if st.Effect == "Deny" {
			return decisionExplicitDeny
		}
		allowed = true
	}
	if allowed {
		return decisionAllowed
	}
	return decisionImplicitDeny
}

// deniesAnything reports whether a statement of the principal denies something.
func (p *principal) deniesAnything() bool {
	for _, st := range p.Statements {
		if st.Effect == "Deny" {
			return true
		}
	}
	return false
}

func (st Statement) matches(action, resource string) bool {
	actionOK, resourceOK := false, false
	for _, a := range st.Actions {
		actionOK = actionOK || actionMatches(a, action)
	}
	for _, r := range st.Resources {
		resourceOK = resourceOK || wildcardMatch(r, resource)
	}
	return actionOK && resourceOK
}

// actionMatches is IAM's case-insensitive match with * and ? wildcards.
func actionMatches(pattern, action string) bool {
	return wildcardMatch(strings.ToLower(pattern), strings.ToLower(action))
}

func wildcardMatch(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if wildcardMatch(p[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			p, s = p[1:], s[1:]
		default:
			if s == "" || p[0] != s[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return s == ""
}

// authorize refuses an action the principal may not take, with AWS's message. ECR
// actions may also be granted by the registry policy.
func (c *call) authorize(action, resource string) *apiError {
	d := c.principal.decide(action, resource)
	if strings.HasPrefix(action, "ecr:") {
		_, d = c.srv.st.allows(c.principal, action, resource)
	}
	if d == decisionAllowed {
		return nil
	}
	e := c.denied(action, resource, d)
	if c.protocol == "query" {
		e.Code = "AccessDenied"
	}
	return e
}

// allows decides an ECR action as AWS does for a principal in this account: an explicit
// deny anywhere wins; otherwise the identity's policy or the registry policy may allow it.
// (Registry policy V2: every ECR action, for principals it names.)
func (st *state) allows(p *principal, action, resource string) (bool, string) {
	identity := p.decide(action, resource)
	registry := st.registryPolicyDecision(p, action, resource)
	switch {
	case identity == decisionExplicitDeny || registry == decisionExplicitDeny:
		return false, decisionExplicitDeny
	case identity == decisionAllowed || registry == decisionAllowed:
		return true, decisionAllowed
	}
	return false, decisionImplicitDeny
}

func (st *state) registryPolicyDecision(p *principal, action, resource string) string {
	if st.registryPolicy == "" {
		return decisionImplicitDeny
	}
	var doc struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(st.registryPolicy), &doc) != nil {
		return decisionImplicitDeny
	}
	var stmts []policyStatement
	if json.Unmarshal(doc.Statement, &stmts) != nil {
		var one policyStatement
		if json.Unmarshal(doc.Statement, &one) != nil {
			return decisionImplicitDeny
		}
		stmts = []policyStatement{one}
	}
	decision := decisionImplicitDeny
	for _, s := range stmts {
		if !s.matches(st, p, action, resource) {
			continue
		}
		if s.Effect == "Deny" {
			return decisionExplicitDeny
		}
		if s.Effect == "Allow" {
			decision = decisionAllowed
		}
	}
	return decision
}

type policyStatement struct {
	Effect    string
	Principal json.RawMessage
	Action    stringOrList
	Resource  stringOrList
}

func (s policyStatement) matches(st *state, p *principal, action, resource string) bool {
	var principals []string
	var star string
	if json.Unmarshal(s.Principal, &star) == nil {
		principals = []string{star}
	} else {
		var m map[string]stringOrList
		if json.Unmarshal(s.Principal, &m) == nil {
			principals = m["AWS"]
		}
	}
	named := false
	for _, x := range principals {
		named = named || x == "*" || x == p.ARN || x == p.CallerARN || x == st.accountID ||
			x == "arn:aws:iam::"+st.accountID+":root"
	}
	if !named {
		return false
	}
	actionOK, resourceOK := false, len(s.Resource) == 0
	for _, a := range s.Action {
		actionOK = actionOK || actionMatches(a, action)
	}
	for _, r := range s.Resource {
		resourceOK = resourceOK || wildcardMatch(r, resource)
	}
	return actionOK && resourceOK
}

// stringOrList is a policy element that may be one string or a list of them.
type stringOrList []string

func (l *stringOrList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}
