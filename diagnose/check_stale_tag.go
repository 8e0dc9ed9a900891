package diagnose

import (
	"container/heap"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// --- stale-tag ---

// staleJob is one cached tag to compare with its upstream.
type staleJob struct {
	rule *model.Rule
	repo *model.Repository
	img  *model.Image // the snapshot's own, no copy
	tag  string
	seq  int // the order of the snapshot, the last tie-breaker
}

// staleJobs picks the cached tags under a rule to probe, the most recently pulled first,
// at most limit of them: when the probe budget runs out, what is left unprobed is what
// nobody pulls. An account has 100,000 cached tags and the budget is 200, so the tags are
// not all listed and sorted (4 MB at that size): a heap keeps the limit+1 first, the one
// past the limit being the newest of those left.
func staleJobs(snap *model.Snapshot, limit int) ([]staleJob, staleLeft) {
	limit = max(limit, 1) // Run makes 0 the default; a budget is at least one probe
	h := &jobHeap{}
	total, seq := 0, 0
	for i := range snap.Repositories {
		repo := &snap.Repositories[i]
		r := snap.Rule(repo.RulePrefix)
		if r == nil {
			continue
		}
		for k := range repo.Images {
			img := &repo.Images[k]
			for _, tag := range img.Tags {
				total++
				seq++
				j := staleJob{r, repo, img, tag, seq}
				switch {
				case h.Len() <= limit:
					heap.Push(h, j)
				case j.before(h.jobs[0]):
					h.jobs[0] = j
					heap.Fix(h, 0)
				}
			}
		}
	}
	jobs := h.jobs
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].before(jobs[b]) })
	if len(jobs) <= limit {
		return jobs, staleLeft{}
	}
	left := staleLeft{n: total - limit, first: jobs[limit]}
	jobs = jobs[:limit:limit]
	// The repositories some of whose tags were left: those with more tags than were picked.
	picked := map[*model.Repository]int{}
	for _, j := range jobs {
		picked[j.repo]++
	}
	for i := range snap.Repositories {
		repo := &snap.Repositories[i]
		if snap.Rule(repo.RulePrefix) == nil {
			continue
		}
		tags := 0
		for _, img := range repo.Images {
			tags += len(img.Tags)
		}
		if tags > picked[repo] {
			left.repos++
		}
	}
	return jobs, left
}

// before orders the cached tags: the most recently pulled first, then by repository and
// tag, then as the snapshot lists them.
func (j staleJob) before(o staleJob) bool {
	if j.img.LastPull != o.img.LastPull {
		return j.img.LastPull > o.img.LastPull
	}
	if j.repo.Name != o.repo.Name {
		return j.repo.Name < o.repo.Name
	}
	if j.tag != o.tag {
		return j.tag < o.tag
	}
	return j.seq < o.seq
}

// jobHeap holds the first cached tags with the last of them on top.
type jobHeap struct{ jobs []staleJob }

func (h *jobHeap) Len() int           { return len(h.jobs) }
func (h *jobHeap) Less(a, b int) bool { return h.jobs[b].before(h.jobs[a]) }
func (h *jobHeap) Swap(a, b int)      { h.jobs[a], h.jobs[b] = h.jobs[b], h.jobs[a] }
func (h *jobHeap) Push(x any)         { h.jobs = append(h.jobs, x.(staleJob)) }
func (h *jobHeap) Pop() any {
	j := h.jobs[len(h.jobs)-1]
	h.jobs = h.jobs[:len(h.jobs)-1]
	return j
}

// staleLeft is what the probe budget left: how many cached tags, in how many
// repositories, and the most recently pulled of them.
type staleLeft struct {
	n, repos int
	first    staleJob
}

// staleRun is the stale-tag check's probes: the tags probed (their answers are in the
// diagnosis's memo), and what the budget left.
type staleRun struct {
	jobs []staleJob
	left staleLeft
}

// staleProbes probes the cached tags once per diagnosis, within the budget.
func (d *diagnosis) staleProbes() *staleRun {
	if d.stale != nil {
		return d.stale
	}
	run := &staleRun{}
	run.jobs, run.left = staleJobs(d.snap, d.opts.ProbeLimit)
	// Eight workers, not a goroutine per probe: 200 waiting per target were 17,000
	// goroutines and 87 MB of stacks in a fleet of 150 targets, and each new one grew its
	// stack again through the registry client.
	var wg sync.WaitGroup
	jobs := make(chan staleJob)
	for range min(8, len(run.jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				d.probe.Upstream(d.ctx, *j.rule, upstreamRef(j.rule, j.repo.Name, j.tag))
			}
		}()
	}
	for _, j := range run.jobs {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	d.stale = run
	return run
}

func checkStaleTags(d *diagnosis) []model.Finding {
	for _, repo := range d.snap.Repositories {
		if repo.IsCache() {
			d.imagesRead(model.Subject{Kind: "repository", Name: repo.Name}, repo) // records what was not listed
		}
	}
	run := d.staleProbes()
	var out []model.Finding
	for _, j := range run.jobs {
		// Asked again through the diagnosis (the answer is kept): a probe that got no answer
		// is recorded as not checked for this tag, never taken for "not stale".
		subject := model.Subject{Kind: "image", Name: j.repo.Name + ":" + j.tag}
		up, ok := d.upstream(subject, *j.rule, upstreamRef(j.rule, j.repo.Name, j.tag), false)
		if ok && up.Class == "rate-limited" {
			// Refused, not answered: upstream-rate-limit says why; the tag is not judged.
			d.skip(subject, model.PartError{Part: "upstream " + up.Reference, Operation: "registry HEAD manifest", Code: "429", Message: orDefault(up.Message, "Too Many Requests")})
			continue
		}
		if ok && up.Exists && !j.img.Digest.Is(up.Digest) {
			out = append(out, staleFinding(j, up, d.cannotRefresh(run, j, up)))
		}
	}
	if run.left.n > 0 {
		out = append(out, staleBudgetFinding(d, run.jobs, run.left))
	}
	return out
}

// cannotRefresh says why deleting a cached tag to import it again would leave nothing to
// serve, from what this diagnosis saw: the answer was anonymous (the rule's secret could
// not be read: a failed read no deletion rests on), the rule's upstream pull budget is
// spent, or another probe of the same upstream got no answer. "" when nothing says so.
func (d *diagnosis) cannotRefresh(run *staleRun, j staleJob, up model.UpstreamProbe) string {
	if up.Anonymous && j.rule.CredentialArn != "" {
		return "the upstream's answer was anonymous (" + up.Why + "), not what the rule's credentials get"
	}
	if up.RateLimit != nil && up.RateLimit.Remaining <= 0 {
		return fmt.Sprintf("the upstream's pull budget is spent (ratelimit-remaining: 0 of %d)", up.RateLimit.Limit)
	}
	for _, o := range run.jobs {
		if o.rule.Prefix != j.rule.Prefix {
			continue
		}
		p := d.probe.Upstream(d.ctx, *o.rule, upstreamRef(o.rule, o.repo.Name, o.tag)) // kept: not asked again
		if p.Class == "rate-limited" || p.RateLimit != nil && p.RateLimit.Remaining <= 0 {
			return "the upstream's pull budget is spent (" + p.Reference + " answered " + strings.TrimSpace(fmt.Sprint(p.Status)+" "+p.Class) + ")"
		}
		if _, failed := probeFailure(p); failed {
			return "the upstream did not answer every probe (" + p.Reference + ": " + p.Class + ")"
		}
	}
	return ""
}

// staleFinding words a stale tag. The refresh deletes the tag and pulls it again (ECR has
// no call that re-imports a cached tag in place); it is offered only when nothing seen says
// the upstream would not serve it back (noRefresh), and its deletion re-asks the upstream,
// with the rule's credentials, just before the call.
func staleFinding(j staleJob, up model.UpstreamProbe, noRefresh string) model.Finding {
	when := "ECR checks the upstream again at the next pull of the tag, once 24 hours have passed since it last checked"
	if !j.img.LastPull.IsZero() {
		when += "; ECR last recorded a pull at " + j.img.LastPull.Time().Format("2006-01-02 15:04 MST")
	}
	f := model.Finding{Subject: model.Subject{Kind: "image", Name: j.repo.Name + ":" + j.tag},
		Title:       fmt.Sprintf("%s:%s is stale: the upstream tag moved", j.repo.Name, j.tag),
		Explanation: "The cache serves " + short(j.img.Digest.String()) + "; the upstream's " + j.tag + " is now " + short(up.Digest) + ". " + when + ".",
		Evidence: []model.Evidence{{Call: "ecr:DescribeImages " + j.repo.Name, Answer: j.tag + " → " + j.img.Digest.String() + ", pushed " + j.img.PushedAt.Time().Format("2006-01-02 15:04 MST")},
			upstreamEvidence(up)}}
	if why := immutableBecause(*j.repo, j.tag); why != "" {
		f.Explanation += " " + why + ", so ECR will never update it: the refresh fails."
		f.Evidence = append(f.Evidence, model.Evidence{Call: "ecr:DescribeRepositories " + j.repo.Name, Answer: mutabilityAnswer(*j.repo)})
		when = "Waiting does not help: the tag is immutable in this repository"
	}
	if noRefresh != "" {
		f.Explanation += " The refresh (delete the cached tag, pull it again) is not offered: " + noRefresh + "; deleting the tag now could leave nothing to serve."
	} else {
		del := deleteTagStep(j.repo.Name, j.tag, j.img.Digest.String())
		del.Expect[model.ExpectUpstreamServes+j.rule.Prefix+" "+up.Reference] = model.UpstreamServes
		del.Summary += " (ECR has no call that re-imports a cached tag in place, so the tag goes first; the upstream is asked again with the rule's credentials just before, and the deletion stops unless it answers 200 with pulls left)"
		f.Fixes = append(f.Fixes, model.Fix{Title: "Delete the cached tag and pull it again (a new pull re-imports it; AWS does not document this re-import, the stand-in models it)",
			Plan: model.Plan{Title: "Refresh " + j.repo.Name + ":" + j.tag, Steps: []model.Step{del, warmStep(j.repo.Name, j.tag)}}})
	}
	f.Fixes = append(f.Fixes, model.Fix{Title: "Or wait", Manual: when + "."})
	return f
}

// immutableBecause says why a tag of a repository cannot move, or "" when it can.
func immutableBecause(repo model.Repository, tag string) string {
	if !repo.TagImmutable(tag) {
		return ""
	}
	switch repo.ImageTagMutability {
	case "IMMUTABLE_WITH_EXCLUSION":
		return "The repository's tags are immutable (IMMUTABLE_WITH_EXCLUSION) and " + tag + " matches none of the exclusion filters (" + strings.Join(repo.MutabilityExclusions, ", ") + ")"
	case "MUTABLE_WITH_EXCLUSION":
		return "The repository's tags are mutable except those matching its exclusion filters (" + strings.Join(repo.MutabilityExclusions, ", ") + "), and " + tag + " matches one: it is immutable"
	}
	return "The repository's tags are immutable"
}

func mutabilityAnswer(repo model.Repository) string {
	ans := "imageTagMutability=" + orDefault(repo.ImageTagMutability, "MUTABLE")
	if len(repo.MutabilityExclusions) > 0 {
		ans += ", imageTagMutabilityExclusionFilters=" + strings.Join(repo.MutabilityExclusions, ", ")
	}
	return ans
}

// staleBudgetFinding says that the probe budget ran out, and what was left unchecked.
func staleBudgetFinding(d *diagnosis, done []staleJob, left staleLeft) model.Finding {
	lastProbed := done[len(done)-1]
	newestLeft := "never"
	if t := left.first.img.LastPull; !t.IsZero() {
		newestLeft = t.Time().Format("2006-01-02 15:04 MST")
	}
	return model.Finding{Severity: model.SeverityInfo, Subject: model.Subject{Kind: "registry", Name: d.snap.RegistryURI()},
		Title: fmt.Sprintf("Not checked: %s in %s were not compared with their upstream (the probe budget of %d ran out)",
			plural(left.n, "cached tag", "cached tags"), plural(left.repos, "repository", "repositories"), d.opts.ProbeLimit),
		Explanation: fmt.Sprintf("The stale-tag check compares at most %d cached tags with their upstream per run, the most recently pulled first; "+
			"the %d left were pulled no later than %s. They may be stale: nothing was concluded about them.", d.opts.ProbeLimit, left.n, newestLeft),
		Evidence: []model.Evidence{
			{Call: "ecr:DescribeImages (lastRecordedPullTime)", Answer: fmt.Sprintf("%d cached tags under the rules; %d probed, down to %s:%s", len(done)+left.n, len(done), lastProbed.repo.Name, lastProbed.tag)},
			{Call: "not probed", Answer: fmt.Sprintf("%s:%s and %d more", left.first.repo.Name, left.first.tag, left.n-1)}},
		Fixes: []model.Fix{{Title: "Check them too", Manual: fmt.Sprintf("ptcdoctor doctor --check stale-tag --probe-limit %d", len(done)+left.n)}}}
}
