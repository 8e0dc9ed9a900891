package diagnose

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
)

// A small reading of IAM policy documents: enough to tell which AWS accounts a policy
// names and whether it grants them the pull actions. It does not evaluate conditions; a
// statement with one counts as granting, so that a doubt never becomes a finding.

type policyDoc struct {
	Statement []policyStatement
}

type policyStatement struct {
	Sid       string          `json:",omitempty"`
	Effect    string          `json:",omitempty"`
	Principal json.RawMessage `json:",omitempty"`
	Action    json.RawMessage `json:",omitempty"`
	Condition json.RawMessage `json:",omitempty"`
}

// parsePolicy reads a policy; ok is false for one that does not parse.
func parsePolicy(text string) (policyDoc, bool) {
	var raw struct {
		Statement json.RawMessage
	}
	if text == "" {
		return policyDoc{}, true
	}
	if json.Unmarshal([]byte(text), &raw) != nil {
		return policyDoc{}, false
	}
	var doc policyDoc
	if json.Unmarshal(raw.Statement, &doc.Statement) != nil {
		var one policyStatement // a single statement, not in a list
		if json.Unmarshal(raw.Statement, &one) != nil {
			return policyDoc{}, false
		}
		doc.Statement = []policyStatement{one}
	}
	return doc, true
}

// stringsOf reads a policy value that is a string or a list of strings.
func stringsOf(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(raw, &many)
	return many
}

// principals lists the AWS principals of a statement; "*" for everyone.
func (s policyStatement) principals() []string {
	if p := stringsOf(s.Principal); len(p) > 0 {
		return p // "Principal": "*"
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(s.Principal, &m) != nil {
		return nil
	}
	return stringsOf(m["AWS"])
}

var accountInARN = regexp.MustCompile(`^(?:arn:aws[a-z-]*:(?:iam|sts)::)?([0-9]{12})(?::.*)?$`)

// accountOf is the account of a principal ("123456789012", an IAM or STS ARN), or "".
func accountOf(principal string) string {
	if m := accountInARN.FindStringSubmatch(principal); m != nil {
		return m[1]
	}
	return ""
}

// accounts lists the accounts a policy's Allow statements name, sorted.
func (d policyDoc) accounts() []string { return d.accountsAllowed() }

// accountsAllowed lists the accounts of the Allow statements that grant any of the
// actions (all statements when none is given), sorted.
func (d policyDoc) accountsAllowed(actions ...string) []string {
	seen := map[string]bool{}
	for _, s := range d.Statement {
		if !strings.EqualFold(s.Effect, "Allow") || (len(actions) > 0 && !s.grantsAny(actions)) {
			continue
		}
		for _, p := range s.principals() {
			if a := accountOf(p); a != "" {
				seen[a] = true
			}
		}
	}
	return sortedKeys(seen)
}

// grants reports whether the policy allows an account every one of the actions.
func (d policyDoc) grants(account string, actions []string) bool {
	for _, want := range actions {
		granted := false
		for _, s := range d.Statement {
			if !strings.EqualFold(s.Effect, "Allow") || !s.names(account) {
				continue
			}
			for _, a := range stringsOf(s.Action) {
				if actionMatches(a, want) {
					granted = true
				}
			}
		}
		if !granted {
			return false
		}
	}
	return true
}

func (s policyStatement) grantsAny(actions []string) bool {
	for _, a := range stringsOf(s.Action) {
		for _, want := range actions {
			if actionMatches(a, want) {
				return true
			}
		}
	}
	return false
}

func (s policyStatement) names(account string) bool {
	for _, p := range s.principals() {
		if p == "*" || accountOf(p) == account {
			return true
		}
	}
	return false
}

// actionMatches matches an action pattern ("ecr:*", "ecr:Batch*") case-insensitively, as IAM does.
func actionMatches(pattern, action string) bool {
	pattern, action = strings.ToLower(pattern), strings.ToLower(action)
	if pre, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(action, pre)
	}
	return pattern == action
}

// withStatement returns the policy with one more statement, the others kept as they are.
func withStatement(text string, stmt map[string]any) string {
	var doc map[string]any
	if text == "" || json.Unmarshal([]byte(text), &doc) != nil {
		doc = map[string]any{"Version": "2012-10-17"}
	}
	var list []any
	switch s := doc["Statement"].(type) {
	case []any:
		list = s
	case map[string]any:
		list = []any{s}
	}
	doc["Statement"] = append(list, stmt)
	b, _ := json.Marshal(doc)
	return string(b)
}

// samePolicy compares two JSON documents by meaning, not by spacing or key order.
func samePolicy(a, b string) bool {
	if a == b {
		return true
	}
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

func sortedStrings(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}
