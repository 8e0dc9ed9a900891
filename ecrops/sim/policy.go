package sim

import (
	"encoding/json"
	"fmt"
)

// ECR checks the policies it is given before it stores them. These checks follow the
// lifecycle policy grammar and IAM's policy shape closely enough that a policy the
// stand-in accepts is one ECR would accept.

// checkLifecyclePolicy returns "" for a valid lifecycle policy, or why it is not.
func checkLifecyclePolicy(text string) string {
	var doc struct {
		Rules []struct {
			RulePriority *int `json:"rulePriority"`
			Selection    *struct {
				TagStatus      string   `json:"tagStatus"`
				TagPrefixList  []string `json:"tagPrefixList"`
				TagPatternList []string `json:"tagPatternList"`
				CountType      string   `json:"countType"`
				CountUnit      string   `json:"countUnit"`
				CountNumber    *int     `json:"countNumber"`
				StorageClass   string   `json:"storageClass"`
			} `json:"selection"`
			Action *struct {
				Type               string `json:"type"`
				TargetStorageClass string `json:"targetStorageClass"`
			} `json:"action"`
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return "the policy is not valid JSON: " + err.Error()
	}
	if len(doc.Rules) == 0 {
		return "the policy must have at least one rule in 'rules'"
	}
	if len(doc.Rules) > 50 {
		return "a policy has at most 50 rules"
	}
	seen := map[int]bool{}
	for i, r := range doc.Rules {
		n := i + 1
		if r.RulePriority == nil || *r.RulePriority < 1 {
			return fmt.Sprintf("rule %d: 'rulePriority' must be a positive integer", n)
		}
		if seen[*r.RulePriority] {
			return fmt.Sprintf("rule %d: 'rulePriority' %d is used twice", n, *r.RulePriority)
		}
		seen[*r.RulePriority] = true
		s := r.Selection
		if s == nil {
			return fmt.Sprintf("rule %d: 'selection' is required", n)
		}
		switch s.TagStatus {
		case "tagged":
			if len(s.TagPrefixList) == 0 && len(s.TagPatternList) == 0 {
				return fmt.Sprintf("rule %d: a tagged selection needs 'tagPrefixList' or 'tagPatternList'", n)
			}
		case "untagged", "any":
		default:
			return fmt.Sprintf("rule %d: 'tagStatus' must be tagged, untagged or any", n)
		}
		switch s.CountType {
		case "imageCountMoreThan":
			if s.CountUnit != "" {
				return fmt.Sprintf("rule %d: 'countUnit' is not allowed with imageCountMoreThan", n)
			}
		case "sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned":
			if s.CountUnit != "days" {
				return fmt.Sprintf("rule %d: 'countUnit' must be days with %s", n, s.CountType)
			}
		default:
			return fmt.Sprintf("rule %d: 'countType' must be imageCountMoreThan, sinceImagePushed, sinceImagePulled or sinceImageTransitioned", n)
		}
		if s.CountNumber == nil || *s.CountNumber < 1 {
			return fmt.Sprintf("rule %d: 'countNumber' must be a positive integer", n)
		}
		if r.Action == nil || (r.Action.Type != "expire" && r.Action.Type != "transition") {
			return fmt.Sprintf("rule %d: 'action.type' must be expire or transition", n)
		}
	}
	return ""
}

// checkPolicyDocument returns "" for an IAM-shaped policy document, or why it is not one.
func checkPolicyDocument(text string) string {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return "the policy is not a JSON object"
	}
	raw, ok := doc["Statement"]
	if !ok {
		return "the policy has no Statement"
	}
	var stmts []map[string]any
	if err := json.Unmarshal(raw, &stmts); err != nil {
		var one map[string]any
		if err := json.Unmarshal(raw, &one); err != nil {
			return "Statement must be an object or a list of objects"
		}
		stmts = []map[string]any{one}
	}
	for i, st := range stmts {
		if e := st["Effect"]; e != "Allow" && e != "Deny" {
			return fmt.Sprintf("statement %d: Effect must be Allow or Deny", i+1)
		}
		if st["Action"] == nil && st["NotAction"] == nil {
			return fmt.Sprintf("statement %d: Action is required", i+1)
		}
	}
	return ""
}
