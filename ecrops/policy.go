package ecrops

import (
	"encoding/json"
	"strings"
)

// registryPolicyDecision reads a registry policy for what it says of one principal, action
// and repository: whether a statement allows it, and whether one denies it. Principals are
// matched by their IAM ARN, the ARN they call with, the account, or "*".
func registryPolicyDecision(policy, callerARN, iamARN, action, resource string) (allow, deny bool) {
	if policy == "" {
		return false, false
	}
	var doc struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(policy), &doc) != nil {
		return false, false
	}
	var stmts []statement
	if json.Unmarshal(doc.Statement, &stmts) != nil {
		var one statement
		if json.Unmarshal(doc.Statement, &one) != nil {
			return false, false
		}
		stmts = []statement{one}
	}
	account := ""
	if parts := strings.Split(iamARN, ":"); len(parts) > 4 {
		account = parts[4]
	}
	for _, s := range stmts {
		if !s.names(callerARN, iamARN, account) || !anyMatch(s.Action, action) || (len(s.Resource) > 0 && !anyMatch(s.Resource, resource)) {
			continue
		}
		switch s.Effect {
		case "Allow":
			allow = true
		case "Deny":
			deny = true
		}
	}
	return allow && !deny, deny
}

type statement struct {
	Effect    string
	Principal json.RawMessage
	Action    stringList
	Resource  stringList
}

func (s statement) names(callerARN, iamARN, account string) bool {
	var star string
	if json.Unmarshal(s.Principal, &star) == nil {
		return star == "*"
	}
	var m map[string]stringList
	if json.Unmarshal(s.Principal, &m) != nil {
		return false
	}
	for _, p := range m["AWS"] {
		if p == "*" || p == callerARN || p == iamARN || p == account || p == "arn:aws:iam::"+account+":root" {
			return true
		}
	}
	return false
}

func anyMatch(patterns []string, s string) bool {
	for _, p := range patterns {
		if globMatch(strings.ToLower(p), strings.ToLower(s)) {
			return true
		}
	}
	return false
}

// globMatch is IAM's match with * and ? wildcards.
func globMatch(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if p == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if globMatch(p, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || p[0] != s[0] {
				return false
			}
		}
		p, s = p[1:], s[1:]
	}
	return s == ""
}

// stringList is a policy element that is one string or a list of them.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	err := json.Unmarshal(b, &many)
	*l = many
	return err
}
