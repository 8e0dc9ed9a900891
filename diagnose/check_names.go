package diagnose

import (
	"context"
	"fmt"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// TagLister is what a Prober may also answer: the first page of an upstream repository's
// tag list. ecrops.Account answers it; a prober that does not makes the name checks fall
// back to the tag they were given.
type TagLister interface {
	UpstreamTags(ctx context.Context, rule model.Rule, upstreamRepo string) model.UpstreamTags
}

// upstreamTags asks the prober for an upstream repository's tags; ok is false when it
// cannot list tags.
func (d *diagnosis) upstreamTags(r model.Rule, path string) (model.UpstreamTags, bool) {
	l, ok := d.probe.p.(TagLister)
	if !ok {
		return model.UpstreamTags{}, false
	}
	return l.UpstreamTags(d.ctx, r, r.UpstreamURL+"/"+path), true
}

// existingTag finds a tag that the upstream repository has, for a probe that cannot
// assume `tag` (usually latest) exists: many repositories have no latest (Docker Hub's
// library/elasticsearch, most release-only repositories). It keeps `tag` when listed.
func (d *diagnosis) existingTag(subject model.Subject, r model.Rule, path, tag string) (string, model.Evidence, bool) {
	tags, ok := d.upstreamTags(r, path)
	if !ok {
		return "", model.Evidence{}, false
	}
	if failed, ok := probeFailure(model.UpstreamProbe{Reference: tags.Repository + " tags/list", Class: tags.Class, Status: tags.Status, Message: tags.Message}); ok {
		failed.Operation = "registry GET tags/list"
		d.skip(subject, failed)
		return "", model.Evidence{}, false
	}
	ev := model.Evidence{Call: "GET " + tags.Repository + " tags/list" + via(tags.Anonymous, tags.Why)}
	if tags.Class != "" || len(tags.Tags) == 0 {
		ev.Answer = fmt.Sprintf("%d %s: %s", tags.Status, tags.Class, tags.Message)
		if tags.Class == "" {
			ev.Answer = "200: no tags"
		}
		return "", ev, false
	}
	shown := tags.Tags
	if len(shown) > 5 {
		shown = append(append([]string(nil), shown[:5]...), fmt.Sprintf("… (%d on the first page)", len(tags.Tags)))
	}
	ev.Answer = "200: " + strings.Join(shown, ", ")
	for _, t := range tags.Tags {
		if t == tag {
			return tag, ev, true
		}
	}
	return tags.Tags[0], ev, true
}

func via(anonymous bool, why string) string {
	if anonymous {
		return ", anonymously (" + why + ")"
	}
	return ", with the rule's credentials"
}

// repoTag is the tag to probe a repository's name with: one it holds, else latest.
func repoTag(repo model.Repository) string {
	for _, img := range repo.Images {
		if len(img.Tags) > 0 {
			return img.Tags[0]
		}
	}
	return "latest"
}

// nearRule finds the rule whose prefix a repository name no rule covers nearly has: a typo
// in the prefix (one or two edits, over as many segments as the prefix has, so that
// mirror/dockerhub/ is near mirror/docker-hub/); a nested prefix written without its parent
// (docker-hub/ for mirror/docker-hub/); or its parent alone, when only one rule is nested
// under it (mirror/ for mirror/docker-hub/). It returns the rule's prefix, the part of the
// name that stood for it, the name corrected, and how the two differ.
func nearRule(rules []model.Rule, repo string) (near, given, fixed, how string) {
	segs := strings.Split(repo, "/")
	best := 3
	var underParent []string
	for _, r := range rules {
		if r.Prefix == "ROOT" {
			continue
		}
		ps := strings.Split(r.Prefix, "/")
		k := len(ps)
		if len(segs) > k {
			g := strings.Join(segs[:k], "/")
			if dist := model.EditDistance(g, r.Prefix); dist > 0 && dist < best {
				near, given, fixed, best = r.Prefix, g, r.Prefix+"/"+strings.Join(segs[k:], "/"), dist
				how = "is " + plural(dist, "letter", "letters") + " away"
			}
		}
		for j := 1; j < k; j++ {
			tail := strings.Join(ps[j:], "/")
			if best > 0 && strings.HasPrefix(repo, tail+"/") {
				near, given, fixed, best = r.Prefix, tail, r.Prefix+"/"+strings.TrimPrefix(repo, tail+"/"), 0
				how = "is nested under " + strings.Join(ps[:j], "/") + "/, which the name leaves out"
			}
		}
		if k > 1 && strings.HasPrefix(repo, strings.Join(ps[:k-1], "/")+"/") {
			underParent = append(underParent, r.Prefix)
		}
	}
	if near == "" && len(underParent) == 1 {
		p := underParent[0]
		parent := p[:strings.LastIndex(p, "/")]
		near, given, fixed = p, parent, p+"/"+strings.TrimPrefix(repo, parent+"/")
		how = "is the only rule under " + parent + "/, and the name leaves out its last segment"
	}
	return near, given, fixed, how
}

// repoPrefixMismatch finds an empty cache repository (a failed first pull) whose name maps,
// through its rule's upstreamRepositoryPrefix, to a path the upstream lacks.
func (d *diagnosis) repoPrefixMismatch(repo model.Repository) (model.Finding, bool) {
	subject := model.Subject{Kind: "repository", Name: repo.Name}
	if r := model.RuleFor(d.snap.Rules, repo.Name); !repo.IsCache() || r == nil || r.UpstreamPrefix == "" || r.UpstreamPrefix == "ROOT" ||
		!d.imagesRead(subject, repo) || len(repo.Images) > 0 {
		return model.Finding{}, false
	}
	f, ok := d.prefixMismatch(repo.Name, "", subject)
	return f, ok
}

// upstreamPrefixMismatch finds a reference whose upstreamRepositoryPrefix mapping leads
// to a path the upstream lacks, while another path has it.
func (d *diagnosis) upstreamPrefixMismatch(ref model.Ref) (model.Finding, bool) {
	if ref.Tag == "" {
		return model.Finding{}, false
	}
	return d.prefixMismatch(ref.Repository, ref.Tag, model.Subject{Kind: "reference", Name: ref.Input})
}

// prefixMismatch probes the path a rule's upstreamRepositoryPrefix maps a cache repository
// to, and when the upstream lacks it, the two paths a person likely meant: the one without
// the upstream prefix, and, when the name already starts with the upstream prefix, the one
// with it once (the name repeated it). With no tag, the upstream's tag lists say which exist.
func (d *diagnosis) prefixMismatch(repo, tag string, subject model.Subject) (model.Finding, bool) {
	r := model.RuleFor(d.snap.Rules, repo)
	if r == nil || r.UpstreamPrefix == "" || r.UpstreamPrefix == "ROOT" {
		return model.Finding{}, false
	}
	mappedPath := model.UpstreamPath(r, repo)
	plainPath := strings.TrimPrefix(repo, r.Prefix+"/")
	if r.Prefix == "ROOT" {
		plainPath = repo
	}
	probe := func(path string) (model.UpstreamProbe, []model.Evidence) {
		if tag != "" {
			p, _ := d.upstream(subject, *r, r.UpstreamURL+"/"+path+":"+tag, false)
			return p, nil
		}
		// No tag to go by: the tag list says whether the path exists, and gives a tag.
		tags, ok := d.upstreamTags(*r, path)
		if !ok {
			return model.UpstreamProbe{Reference: r.UpstreamURL + "/" + path, Class: "unknown"}, nil
		}
		t, ev, found := d.existingTag(subject, *r, path, "latest")
		if !found {
			p := model.UpstreamProbe{Reference: tags.Repository, Status: tags.Status, Class: orDefault(tags.Class, "not-found"), Message: tags.Message}
			return p, []model.Evidence{ev}
		}
		p, _ := d.upstream(subject, *r, r.UpstreamURL+"/"+path+":"+t, false)
		return p, []model.Evidence{ev}
	}
	mapped, ev := probe(mappedPath)
	if r.UpstreamRegistry == "ecr" && mapped.Class == "unauthorized" {
		// Another ECR registry answers only a caller with an ECR token for it, which the
		// probes do not have: whether the path exists is unknown.
		d.skip(subject, model.PartError{Part: "upstream " + mapped.Reference, Operation: "registry HEAD manifest", Code: "401",
			Message: "an ECR upstream registry answers only with an ECR token for it; ptcdoctor probed it " + orDefault(mapped.Why, "anonymously")})
		return model.Finding{}, false
	}
	if mapped.Exists || (mapped.Class != "" && mapped.Class != "not-found") || mapped.SecretError != nil {
		return model.Finding{}, false // it works, or the upstream did not say (recorded as not checked)
	}
	if len(ev) == 0 {
		ev = append(ev, upstreamEvidence(mapped))
	}
	repeated := strings.HasPrefix(plainPath, r.UpstreamPrefix+"/")
	plain, pev := probe(plainPath)
	if !plain.Exists {
		return model.Finding{}, false
	}
	ev = append(append(ev, pev...), upstreamEvidence(plain))
	shown := repo
	if tag != "" {
		shown += ":" + tag
	}
	f := model.Finding{Subject: subject, Evidence: ev,
		Title: fmt.Sprintf("The rule %s/ maps %s to %s, which the upstream lacks", r.Prefix, shown, mapped.Reference)}
	if tag == "" { // the tag the upstream's list gave
		if i := strings.LastIndex(plain.Reference, ":"); i > strings.LastIndex(plain.Reference, "/") {
			tag = plain.Reference[i+1:]
		}
	}
	if repeated {
		// The name repeats the upstream prefix: the rule adds it already.
		fixedRepo := r.Prefix + "/" + strings.TrimPrefix(plainPath, r.UpstreamPrefix+"/")
		f.Explanation = "The rule's upstreamRepositoryPrefix (" + r.UpstreamPrefix + ") is put in front of every path after " + r.Prefix + "/, and the name repeats it: " +
			plain.Reference + " is reached as " + cacheRef(d.snap, fixedRepo, orDefault(tag, "<tag>")) + "."
		f.Fixes = []model.Fix{{Title: "Use " + fixedRepo, Manual: "Change the reference to " + cacheRef(d.snap, fixedRepo, orDefault(tag, "<tag>")) + "."}}
		return f, true
	}
	f.Explanation = "The rule's upstreamRepositoryPrefix (" + r.UpstreamPrefix + ") is put in front of every path, but the image is at " +
		plain.Reference + " without it. A rule's upstream prefix cannot be changed (UpdatePullThroughCacheRule does not take it): create a rule without the upstream prefix for these images."
	f.Fixes = []model.Fix{{Title: "Create a rule without an upstream prefix",
		Manual: fmt.Sprintf("ptcdoctor setup --upstream %s --prefix %s-direct", r.UpstreamRegistry, strings.ReplaceAll(r.Prefix, "/", "-"))}}
	return f, true
}
