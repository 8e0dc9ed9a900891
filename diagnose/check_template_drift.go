package diagnose

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// --- template-drift ---

// A creation template applies only when ECR creates a repository; a repository made before
// the template changed keeps the old settings. This check compares each cache repository
// with the template that covers it now, where both were read, and aligns what can be
// changed in place.

// drift is one setting in which a repository differs from its template.
type drift struct {
	setting, repo, template string
	step                    *model.Step // nil when it cannot be changed in place
}

func checkTemplateDrift(d *diagnosis) []model.Finding {
	var out []model.Finding
	for _, repo := range d.snap.Repositories {
		t := model.TemplateFor(d.snap.Templates, repo.Name)
		if !repo.IsCache() || t == nil {
			continue
		}
		subject := model.Subject{Kind: "repository", Name: repo.Name}
		// Empty repositories are the traces of failed pulls: negative-cache speaks of them.
		if !d.imagesRead(subject, repo) || len(repo.Images) == 0 || !d.settingsRead(subject, repo) {
			continue
		}
		// A template's lifecycle policy is compared only with one read: a repository whose
		// policy is unread (a failed call, or none made) is not checked, never judged on
		// its other settings alone.
		if t.LifecyclePolicy != "" && !d.lifecycleRead(subject, repo) {
			continue
		}
		if ds := driftOf(repo, *t); len(ds) > 0 {
			out = append(out, driftFinding(repo, *t, ds))
		}
	}
	return out
}

// settingsRead reports whether a repository's policy and tags were read, recording the
// subject as not checked otherwise: with the failed call, or as not read when the snapshot
// holds neither them nor an error (the scan reads them for every cache repository a
// template covers; one that did not get to it left them unread, not empty).
func (d *diagnosis) settingsRead(subject model.Subject, repo model.Repository) bool {
	return d.held(subject, repo.SettingsKnown, "GetRepositoryPolicy", model.PartRepositoryPolicy(repo.Name), model.PartRepositoryTags(repo.Name))
}

func driftOf(repo model.Repository, t model.Template) []drift {
	var ds []drift
	tm, rm := orDefault(t.ImageTagMutability, "MUTABLE"), orDefault(repo.ImageTagMutability, "MUTABLE")
	tf, rf := strings.Join(sortedStrings(t.MutabilityExclusions), ","), strings.Join(sortedStrings(repo.MutabilityExclusions), ",")
	if tm != rm || tf != rf {
		params := map[string]string{"repositoryName": repo.Name, "imageTagMutability": tm}
		if tf != "" {
			params["imageTagMutabilityExclusionFilters"] = tf
		}
		ds = append(ds, drift{"tag mutability", mutabilityText(rm, rf), mutabilityText(tm, tf), &model.Step{Kind: model.StepPutImageTagMutability,
			Operation: "ecr:PutImageTagMutability", Target: repo.Name, Params: params,
			Summary: "Set the tag mutability of " + repo.Name + " to " + mutabilityText(tm, tf),
			Expect:  map[string]string{"exists": "true", "imageTagMutability": rm, "imageTagMutabilityExclusionFilters": strings.Join(repo.MutabilityExclusions, ",")}}})
	}
	te, re := orDefault(t.EncryptionType, "AES256"), orDefault(repo.EncryptionType, "AES256")
	if te != re || (t.KMSKey != "" && repo.KMSKey != "" && t.KMSKey != repo.KMSKey) {
		ds = append(ds, drift{"encryption", encryptionText(re, repo.KMSKey), encryptionText(te, t.KMSKey), nil})
	}
	// A template without a lifecycle or repository policy says nothing against a repository
	// that has one: only a template's own policy is compared, and never removed.
	if t.LifecyclePolicy != "" && repo.LifecycleKnown && !samePolicy(t.LifecyclePolicy, repo.LifecyclePolicy) {
		ds = append(ds, drift{"lifecycle policy", orDefault(repo.LifecyclePolicy, "(none)"), t.LifecyclePolicy, &model.Step{Kind: model.StepPutLifecyclePolicy,
			Operation: "ecr:PutLifecyclePolicy", Target: repo.Name,
			Params:  map[string]string{"repositoryName": repo.Name, "lifecyclePolicyText": t.LifecyclePolicy},
			Summary: "Put the template's lifecycle policy on " + repo.Name, Expect: map[string]string{"lifecyclePolicy": repo.LifecyclePolicy}}})
	}
	if t.RepositoryPolicy != "" && !samePolicy(t.RepositoryPolicy, repo.Policy) {
		ds = append(ds, drift{"repository policy", orDefault(repo.Policy, "(none)"), t.RepositoryPolicy, &model.Step{Kind: model.StepSetRepositoryPolicy,
			Operation: "ecr:SetRepositoryPolicy", Target: repo.Name,
			Params:  map[string]string{"repositoryName": repo.Name, "policyText": t.RepositoryPolicy},
			Summary: "Put the template's repository policy on " + repo.Name + " (it replaces the one there)", Expect: map[string]string{"repositoryPolicy": repo.Policy}}})
	}
	var missing []string
	for _, k := range sortedKeys(t.ResourceTags) {
		if v, ok := repo.ResourceTags[k]; !ok || v != t.ResourceTags[k] {
			missing = append(missing, k+"="+t.ResourceTags[k])
		}
	}
	if len(missing) > 0 {
		want := map[string]string{}
		for _, k := range sortedKeys(t.ResourceTags) {
			want[k] = t.ResourceTags[k]
		}
		tags, _ := json.Marshal(want)
		have, _ := json.Marshal(orEmpty(repo.ResourceTags))
		ds = append(ds, drift{"resource tags", tagsText(repo.ResourceTags), strings.Join(missing, ", "), &model.Step{Kind: model.StepTagRepository,
			Operation: "ecr:TagResource", Target: repo.Name,
			Params:  map[string]string{"resourceArn": repo.ARN, "tags": string(tags)},
			Summary: "Tag " + repo.Name + " with " + strings.Join(missing, ", ") + " (its other tags kept)", Expect: map[string]string{"resourceTags": string(have)}}})
	}
	return ds
}

func driftFinding(repo model.Repository, t model.Template, ds []drift) model.Finding {
	var names, fixed, manual []string
	var steps []model.Step
	ev := []model.Evidence{{Call: "ecr:DescribeRepositoryCreationTemplates " + t.Prefix, Answer: "updated " + t.UpdatedAt.UTC().Format("2006-01-02 15:04 MST")},
		{Call: "ecr:DescribeRepositories " + repo.Name, Answer: "created " + repo.CreatedAt.UTC().Format("2006-01-02 15:04 MST")}}
	for _, x := range ds {
		names = append(names, x.setting)
		ev = append(ev, model.Evidence{Call: x.setting + " of " + repo.Name + " / of the template " + t.Prefix, Answer: clip(x.repo) + " / " + clip(x.template)})
		if x.step != nil {
			steps = append(steps, *x.step)
			fixed = append(fixed, x.setting)
		} else {
			manual = append(manual, x.setting)
		}
	}
	f := model.Finding{Severity: model.SeverityWarning, Subject: model.Subject{Kind: "repository", Name: repo.Name},
		Title: fmt.Sprintf("%s differs from its creation template %s: %s", repo.Name, t.Prefix, strings.Join(names, ", ")),
		Explanation: "A creation template applies only when ECR creates a repository; " + repo.Name + " was created with other settings (before the template changed, or by hand) and keeps them. " +
			"New repositories under " + t.Prefix + "/ get the template's " + strings.Join(names, ", ") + "; this one does not.",
		Evidence: ev}
	if len(steps) > 0 {
		f.Fixes = append(f.Fixes, model.Fix{Title: "Align " + strings.Join(fixed, ", ") + " with the template, in place",
			Plan: model.Plan{Title: "Align " + repo.Name + " with the template " + t.Prefix, Steps: steps}})
	}
	if len(manual) > 0 {
		f.Fixes = append(f.Fixes, model.Fix{Title: "Encryption cannot be changed in place",
			Manual: "A repository's encryption is fixed when it is created. To give " + repo.Name + " the template's encryption, delete it (with its images) and pull through the cache again: ECR creates it anew from the template. Its cached images are fetched from the upstream again, spending upstream pulls."})
	}
	return f
}

func mutabilityText(m, filters string) string {
	if filters == "" {
		return m
	}
	return m + " (" + filters + ")"
}

func encryptionText(t, key string) string {
	if key == "" {
		return t
	}
	return t + " " + key
}

func tagsText(m map[string]string) string {
	if len(m) == 0 {
		return "(no tags)"
	}
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:197] + "..."
	}
	return s
}
