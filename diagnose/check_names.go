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
func (d *diagnosis) existingTag(r model.Rule, path, tag string) (string, model.Evidence, bool) {
	tags, ok := d.upstreamTags(r, path)
	if !ok {
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
