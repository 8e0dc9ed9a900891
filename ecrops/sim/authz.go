package sim

import (
	"fmt"
	"net/http"
	"strings"
)

// Each principal's permissions are action patterns, as an IAM policy's Action element
// holds them: "*", "ecr:*", "ecr:Describe*". An explicit deny wins over any allow.

const (
	decisionAllowed      = "allowed"
	decisionImplicitDeny = "implicitDeny"
	decisionExplicitDeny = "explicitDeny"
)

func (p *principal) decide(action string) string {
	for _, pat := range p.Deny {
		if actionMatches(pat, action) {
			return decisionExplicitDeny
		}
	}
	for _, pat := range p.Allow {
		if actionMatches(pat, action) {
			return decisionAllowed
		}
	}
	return decisionImplicitDeny
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

// authorize refuses an action the principal may not take, with AWS's message.
func (c *call) authorize(action, resource string) *apiError {
	d := c.principal.decide(action)
	if d == decisionAllowed {
		return nil
	}
	why := "no identity-based policy allows the " + action + " action"
	if d == decisionExplicitDeny {
		why = "with an explicit deny in an identity-based policy"
	}
	code := "AccessDeniedException"
	if c.protocol == "query" {
		code = "AccessDenied"
	}
	return &apiError{Code: code, Status: http.StatusBadRequest, Sender: true,
		Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s",
			c.principal.CallerARN, action, resource, because(d, why))}
}

func because(decision, why string) string {
	if decision == decisionExplicitDeny {
		return why
	}
	return "because " + why
}
