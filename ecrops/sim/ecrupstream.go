package sim

import (
	"fmt"
	"strings"
)

// ECR-to-ECR pull through, as https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-private.html
// describes it: an upstream registry in another account is reached through the rule's
// customRoleArn, a role of this (the downstream) account that trusts
// pullthroughcache.ecr.amazonaws.com; and the upstream's registry (or repository) policy
// must grant this account ecr:BatchGetImage, ecr:GetDownloadUrlForLayer and
// ecr:BatchImportUpstreamImage. An upstream in the same account (another region) needs
// neither.
//
// In a scenario, the role is a principal of kind role with `trust:
// [pullthroughcache.ecr.amazonaws.com]`, and the upstream ECR registry is an `upstreams`
// entry named by its host (`<account>.dkr.ecr.<region>.amazonaws.com`) whose
// `allowAccounts` lists the accounts its registry policy grants.

// ecrPullThroughService is the service principal the rule's role must trust.
const ecrPullThroughService = "pullthroughcache.ecr.amazonaws.com"

// ecrUpstreamAccount is the account of an ECR registry host, or "".
func ecrUpstreamAccount(host string) string {
	if !ecrPrivateURLRE.MatchString(host) {
		return ""
	}
	return host[:12]
}

// ecrUpstreamPassword is how the stand-in, standing for ECR's service, proves to an
// upstream ECR look-alike which account pulls. Real ECR signs with the role's session.
func ecrUpstreamPassword(account string) string { return "ecr-pull-through:" + account }

// ecrRuleAccess says why this account cannot reach a rule's upstream ECR registry, or "",
// with the credentials that stand for its role. Called with s.mu held.
func (s *Server) ecrRuleAccess(r *ruleState) (*upstreamCredentials, string) {
	st := s.st
	upstream := ecrUpstreamAccount(r.URL)
	if upstream != st.accountID {
		role := st.principalByARN(r.CustomRoleArn)
		switch {
		case r.CustomRoleArn == "":
			return nil, fmt.Sprintf("The upstream registry %s is in another account; the rule needs a customRoleArn.", r.URL)
		case role == nil || role.Kind != "role":
			return nil, fmt.Sprintf("Unable to assume the role %s: it does not exist.", r.CustomRoleArn)
		case !contains(role.Trust, ecrPullThroughService):
			return nil, fmt.Sprintf("Unable to assume the role %s: its trust policy does not allow %s to assume it.", r.CustomRoleArn, ecrPullThroughService)
		}
	}
	return &upstreamCredentials{Username: "AWS", AccessToken: ecrUpstreamPassword(st.accountID)}, ""
}

// ecrUpstreamGrants reports whether an upstream ECR look-alike lets an account pull: its
// own account always, others when its registry policy (allowAccounts) names them.
func ecrUpstreamGrants(u Upstream, account string) bool {
	return ecrUpstreamAccount(u.Host) == account || contains(u.AllowAccounts, account)
}

// ecrAccountFromPassword reads the account an ECR look-alike's caller stands for.
func ecrAccountFromPassword(user, password string) (string, bool) {
	account, ok := strings.CutPrefix(password, "ecr-pull-through:")
	return account, ok && user == "AWS" && accountIDRE.MatchString(account)
}

// validateECRUpstream is ValidatePullThroughCacheRule for an ECR upstream: the role, then
// the upstream registry's policy. The failure texts are the stand-in's (AWS's are free text).
func (s *Server) validateECRUpstream(r *ruleState) string {
	if _, why := s.ecrRuleAccess(r); why != "" {
		return why
	}
	for _, u := range s.scenario.Upstreams {
		if u.Host != r.URL {
			continue
		}
		if !ecrUpstreamGrants(u, s.st.accountID) {
			return fmt.Sprintf("The upstream registry %s does not allow the account %s: no registry or repository policy grants it ecr:BatchGetImage, ecr:GetDownloadUrlForLayer and ecr:BatchImportUpstreamImage.", r.URL, s.st.accountID)
		}
		return ""
	}
	return fmt.Sprintf("The upstream registry %s could not be reached.", r.URL)
}
