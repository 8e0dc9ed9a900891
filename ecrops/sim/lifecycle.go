package sim

import (
	"encoding/json"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Lifecycle policies are evaluated, as ECR does, a while after they are set: "After
// creating a lifecycle policy, the affected images are expired or archived within 24
// hours" (https://docs.aws.amazon.com/AmazonECR/latest/userguide/lp_creation.html). The
// stand-in evaluates every repository's policy at the first call after each 24 hours of
// its clock (when exactly within those hours is a model). The rules follow
// https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html: rules in
// rulePriority order, an image acted on by one rule at most, imageCountMoreThan keeps the
// newest pushed, sinceImagePulled counts from the last recorded pull (the push when
// never pulled), sinceImageTransitioned from the archiving; expire deletes, transition
// archives.

// lifecycleEvery is how often the stand-in evaluates lifecycle policies.
const lifecycleEvery = 24 * time.Hour

type lifecyclePolicy struct {
	Rules []lifecycleRule `json:"rules"`
}

type lifecycleRule struct {
	RulePriority *int   `json:"rulePriority"`
	Description  string `json:"description"`
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
}

// evaluateLifecycles runs the policies when 24 hours have passed since the last run.
// Called with s.mu held.
func (s *Server) evaluateLifecycles() {
	now := s.clock.Now()
	st := s.st
	if st.lifecycleRun.IsZero() {
		st.lifecycleRun = now
		return
	}
	if now.Sub(st.lifecycleRun) < lifecycleEvery {
		return
	}
	st.lifecycleRun = now
	for _, r := range st.repos {
		if r.Lifecycle == "" {
			continue
		}
		var p lifecyclePolicy
		if json.Unmarshal([]byte(r.Lifecycle), &p) != nil {
			continue
		}
		r.applyLifecycle(p, now)
		r.LifecycleEvaluated = now
	}
}

func (r *repoState) applyLifecycle(p lifecyclePolicy, now time.Time) {
	rules := append([]lifecycleRule(nil), p.Rules...)
	sort.SliceStable(rules, func(i, j int) bool { return priority(rules[i]) < priority(rules[j]) })
	done := map[v1.Hash]bool{}
	for _, rule := range rules {
		if rule.Selection == nil || rule.Action == nil || rule.Selection.CountNumber == nil {
			continue
		}
		sel := rule.Selection
		wantStatus := statusActive
		if sel.StorageClass == "archive" {
			wantStatus = statusArchived
		}
		var matched []*imageState
		for _, img := range r.sortedImages() { // newest pushed first
			if r.isChild(img.Digest) || img.status(now) != wantStatus || !r.tagsMatch(img, sel.TagStatus, sel.TagPrefixList, sel.TagPatternList) {
				continue
			}
			matched = append(matched, img)
		}
		n := *sel.CountNumber
		days := time.Duration(n) * 24 * time.Hour
		for i, img := range matched {
			var hit bool
			switch sel.CountType {
			case "imageCountMoreThan":
				hit = i >= n
			case "sinceImagePushed":
				hit = now.Sub(img.PushedAt) > days
			case "sinceImagePulled":
				last := img.LastPull
				if last.IsZero() {
					last = img.PushedAt
				}
				hit = now.Sub(last) > days
			case "sinceImageTransitioned":
				hit = !img.ArchivedAt.IsZero() && now.Sub(img.ArchivedAt) > days
			}
			// An image matched by a rule is not acted on by a later one, even when this
			// rule spares it (LifecyclePolicies.html, "How lifecycle policies work").
			if done[img.Digest] {
				continue
			}
			done[img.Digest] = true
			if !hit {
				continue
			}
			switch rule.Action.Type {
			case "expire":
				r.deleteImage(img)
			case "transition":
				img.Status, img.ArchivedAt = statusArchived, now
				for _, c := range img.Children {
					if ci := r.images[c]; ci != nil {
						ci.Status, ci.ArchivedAt = statusArchived, now
					}
				}
			}
		}
	}
}

func priority(r lifecycleRule) int {
	if r.RulePriority == nil {
		return 0
	}
	return *r.RulePriority
}

// tagsMatch selects by tagStatus; for tagged, every prefix (or pattern) of the list must
// match one of the image's tags ("only images with all specified tags are selected").
func (r *repoState) tagsMatch(img *imageState, status string, prefixes, patterns []string) bool {
	tags := r.tagsOf(img.Digest)
	switch status {
	case "untagged":
		return len(tags) == 0
	case "any":
		return true
	}
	if len(tags) == 0 {
		return false
	}
	all := func(list []string, match func(want, tag string) bool) bool {
		for _, want := range list {
			found := false
			for _, t := range tags {
				found = found || match(want, t)
			}
			if !found {
				return false
			}
		}
		return true
	}
	if len(patterns) > 0 {
		return all(patterns, func(want, tag string) bool { ok, _ := path.Match(want, tag); return ok })
	}
	return all(prefixes, strings.HasPrefix)
}

// deleteImage removes an image with its tags and the manifests only it referenced.
func (r *repoState) deleteImage(img *imageState) {
	for _, t := range r.tagsOf(img.Digest) {
		delete(r.tags, t)
	}
	delete(r.images, img.Digest)
	for _, c := range img.Children {
		if !r.isChild(c) {
			delete(r.images, c)
		}
	}
}
