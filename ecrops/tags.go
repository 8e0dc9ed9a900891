package ecrops

import (
	"context"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// UpstreamTags reads the first page of an upstream repository's tag list (host/path), with
// the rule's credentials as ProbeUpstream does. A probe that needs a tag asks this rather
// than assuming `latest`: many repositories have none (Docker Hub's library/elasticsearch).
// A tag list costs no pull on Docker Hub.
func (a *Account) UpstreamTags(ctx context.Context, rule model.Rule, upstreamRepo string) model.UpstreamTags {
	ctx, cancel := context.WithTimeout(ctx, a.probeTimeout())
	defer cancel()
	out := model.UpstreamTags{Repository: upstreamRepo}
	repo, err := name.NewRepository(upstreamRepo, name.WeakValidation)
	if err != nil {
		out.Class, out.Message = "invalid", model.Printable(err.Error())
		return out
	}
	var who model.UpstreamProbe
	auth, known := a.ruleAuth(ctx, rule, &who)
	out.Anonymous, out.Why = who.Anonymous, who.Why
	puller, err := remote.NewPuller(remote.WithAuth(auth), remote.WithTransport(a.upstreamTransport()), remote.WithPageSize(100), retryServerErrors)
	if err == nil {
		var l *remote.Lister
		if l, err = puller.Lister(ctx, repo); err == nil {
			var page *remote.Tags
			if page, err = l.Next(ctx); err == nil {
				for _, t := range page.Tags {
					out.Tags = append(out.Tags, model.Printable(t))
				}
				out.Status = http.StatusOK
				return out
			}
		}
	}
	out.Status, out.Class, out.Message = classifyRegistryError(err, known.mask)
	return out
}
