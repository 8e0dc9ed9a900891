package diagnose

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// --- upstream-rate-limit ---

// rateProbeRef is Docker Hub's repository for checking the pull budget.
const rateProbeRef = "ratelimitpreview/test:latest"

// answersFor is every upstream answer the diagnosis has had for a rule so far.
func (m *memo) answersFor(prefix string) []model.UpstreamProbe {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []model.UpstreamProbe
	for k := range m.askedBy[prefix] {
		if p, ok := m.upstream[k]; ok {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Reference < out[j].Reference })
	return out
}

// rateView is what the answers for one rule say about its upstream's limits.
type rateView struct {
	spent   []model.UpstreamProbe // a 429 or ratelimit-remaining 0: the pull budget is used up
	refused []model.UpstreamProbe // a 429 while the budget is not known to be spent
	lowest  *model.UpstreamProbe  // the answer with the fewest pulls left
}

func readRates(answers []model.UpstreamProbe) rateView {
	var v rateView
	for i := range answers {
		p := answers[i]
		rl := p.RateLimit
		switch {
		case rl != nil && rl.Limit > 0 && rl.Remaining == 0:
			v.spent = append(v.spent, p)
		case p.Class == "rate-limited":
			v.refused = append(v.refused, p)
		}
		if rl != nil && rl.Limit > 0 && (v.lowest == nil || rl.Remaining < v.lowest.RateLimit.Remaining) {
			v.lowest = &answers[i]
		}
	}
	return v
}

// checkRateLimit reads the limits from every answer an upstream gave during the
// diagnosis (the stale-tag probes, the name probes, the references), not from one probe
// image only: a 429 on any real manifest answer counts.
func checkRateLimit(d *diagnosis) []model.Finding {
	if len(d.opts.Checks) == 0 || contains(d.opts.Checks, "stale-tag") {
		d.staleProbes() // made now rather than later, so that their answers count here
	}
	var out []model.Finding
	for _, r := range d.snap.Rules {
		subject := model.Subject{Kind: "rule", Name: r.Prefix}
		if r.UpstreamRegistry == "docker-hub" {
			// A HEAD: costs no pull. Without an answer with the rule's own credentials the
			// rule is recorded as not checked; the other answers may still show a limit.
			d.upstream(subject, r, r.UpstreamURL+"/"+rateProbeRef, true)
		}
		// An answer given anonymously because the rule's secret could not be read shows this
		// machine's budget, not the rule's: it is left out, and the rule recorded.
		var answers []model.UpstreamProbe
		for _, p := range d.probe.answersFor(r.Prefix) {
			if p.SecretError != nil {
				d.skip(subject, *p.SecretError)
				continue
			}
			answers = append(answers, p)
		}
		v := readRates(answers)
		switch {
		case len(v.spent) > 0:
			out = append(out, budgetFinding(d, r, v.spent[0], true, v.spent))
		case len(v.refused) > 0:
			out = append(out, refusedFinding(r, v))
		case v.lowest != nil && v.lowest.RateLimit.Remaining*5 < v.lowest.RateLimit.Limit:
			out = append(out, budgetFinding(d, r, *v.lowest, false, nil))
		}
	}
	return out
}

func window(rl *model.RateLimit) string {
	if rl == nil || rl.WindowSeconds <= 0 {
		return "the upstream's window"
	}
	return fmt.Sprintf("the %g-hour window (w=%d in the ratelimit headers)", float64(rl.WindowSeconds)/3600, rl.WindowSeconds)
}

// upstreamName is how the findings name a rule's upstream.
func upstreamName(r model.Rule) string {
	if r.UpstreamRegistry == "docker-hub" {
		return "Docker Hub"
	}
	return strings.SplitN(r.UpstreamURL, "/", 2)[0]
}

// budgetFinding speaks of a pull budget that is spent, or low.
func budgetFinding(d *diagnosis, r model.Rule, p model.UpstreamProbe, spent bool, all []model.UpstreamProbe) model.Finding {
	rl := p.RateLimit
	host := upstreamName(r)
	who := "the rule's credentials (source " + sourceOf(rl) + ")"
	if p.Anonymous {
		who = "anonymous pulls from this machine (source " + sourceOf(rl) + "); " + p.Why
	}
	f := model.Finding{Subject: model.Subject{Kind: "rule", Name: r.Prefix}, Evidence: []model.Evidence{upstreamEvidence(p)}}
	for i, q := range all {
		if i > 0 && i < 3 {
			f.Evidence = append(f.Evidence, upstreamEvidence(q))
		}
	}
	if spent {
		f.Severity = model.SeverityError
		f.Title = "The " + host + " pull budget of rule " + r.Prefix + "/ is spent"
		f.Explanation = host + " has no pulls left for " + who + ": first pulls through " + r.Prefix +
			"/ fail with TOOMANYREQUESTS (BatchGetImage failure UpstreamTooManyRequests) until pulls age out of " + window(rl) +
			", and cached tags are not refreshed. Cached images are still served."
		if len(all) > 1 {
			f.Explanation += fmt.Sprintf(" %d of the answers seen during this diagnosis said so.", len(all))
		}
	} else {
		f.Severity = model.SeverityWarning
		f.Title = fmt.Sprintf("The %s pull budget of rule %s/ is low: %d of %d left", host, r.Prefix, rl.Remaining, rl.Limit)
		f.Explanation = fmt.Sprintf("%s has %d of %d pulls left in %s. Each platform of an image not cached yet costs one pull; when the budget is spent, first pulls through %s/ fail with 429 until pulls age out of the window.",
			who, rl.Remaining, rl.Limit, window(rl), r.Prefix)
	}
	if rl != nil {
		f.Evidence = append(f.Evidence, model.Evidence{Call: "ratelimit headers of " + p.Reference, Answer: fmt.Sprintf("ratelimit-limit: %d;w=%d, ratelimit-remaining: %d;w=%d, docker-ratelimit-source: %s", rl.Limit, rl.WindowSeconds, rl.Remaining, rl.WindowSeconds, rl.Source)})
	}
	if r.Secret != nil && r.Secret.Exists {
		f.Fixes = append(f.Fixes, model.Fix{Title: "Put the credentials of a plan with more pulls on the rule",
			Plan: model.Plan{Title: "Better " + host + " credentials for " + r.Prefix + "/", Steps: []model.Step{putSecretStep(r.Secret.ARN, r.Secret.Name)}}})
	}
	if !spent {
		var warm []model.Step
		for _, ref := range d.opts.Refs {
			if ref.RulePrefix != r.Prefix || ref.Tag == "" {
				continue
			}
			// Warmed only when the cache was seen not to hold it: a failed probe is not "not cached".
			if c := d.probe.Cache(d.ctx, ref.Repository, ref.Tag); c.Error == nil && !c.Cached {
				warm = append(warm, warmStep(ref.Repository, ref.Tag))
			}
		}
		if len(warm) > 0 {
			f.Fixes = append(f.Fixes, model.Fix{Title: "Warm the watched tags that are not cached while budget remains",
				Plan: model.Plan{Title: "Warm " + r.Prefix + "/ while budget remains", Steps: warm}})
		}
	}
	return f
}

// refusedFinding speaks of 429 answers that are not the pull budget running out: the
// headers say pulls are left, or there are none (Docker Hub's abuse limit, a registry's
// request rate limit).
func refusedFinding(r model.Rule, v rateView) model.Finding {
	host := upstreamName(r)
	p := v.refused[0]
	why := "The answers carried no pull budget headers, so this is a limit on the rate of requests, not a pull budget: it lifts by itself when requests slow down."
	if rl := p.RateLimit; rl != nil && rl.Limit > 0 {
		why = fmt.Sprintf("The pull budget is not what refused them: the ratelimit headers say %d of %d pulls are left. A 429 with pulls left is a limit on the rate of requests (Docker Hub's abuse limit), which lifts when requests slow down.", rl.Remaining, rl.Limit)
	}
	f := model.Finding{Severity: model.SeverityWarning, Subject: model.Subject{Kind: "rule", Name: r.Prefix},
		Title: fmt.Sprintf("%s answered 429 Too Many Requests to %s through rule %s/", host, plural(len(v.refused), "probe", "probes"), r.Prefix),
		Explanation: "While it answers 429, first pulls through " + r.Prefix + "/ and the 24-hour refreshes of cached tags fail; cached images are still served. " + why +
			" Checks that needed these answers (stale tags, names) said nothing about the references refused.",
		Fixes: []model.Fix{{Title: "Find what pulls so often", Manual: "Look for nodes or CI jobs that pull from " + host + " directly or in a loop (a mirror bypassed, an image pull policy of Always), and spread first pulls out."}}}
	for i, q := range v.refused {
		if i == 3 {
			break
		}
		f.Evidence = append(f.Evidence, upstreamEvidence(q))
	}
	return f
}

func sourceOf(rl *model.RateLimit) string {
	if rl == nil || rl.Source == "" {
		return "unknown"
	}
	return rl.Source
}
