package ui

import (
	"context"
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// The images screen: one repository's images, with what the upstream now says of
// each tag (asked once the screen opens, by HEAD requests, which Docker Hub does not
// count); enter and d describe an image, e explains its first tag.

type imagesScreen struct {
	*listScreen
	repo     string
	probeID  int
	cancel   context.CancelFunc // the probes', which end when the screen is left
	upstream map[string]string  // tag -> upstream digest, or "?" and why
}

// upstreamMsg carries what the upstream says of a repository's tags.
type upstreamMsg struct {
	id      int
	digests map[string]string
}

type imageRef struct {
	repo *model.Repository
	img  *model.Image
}

func newImagesScreen(c *common, repo string) *imagesScreen {
	cols := []column{{name: "tags", title: "TAGS", width: 14}, {name: "digest", title: "DIGEST", width: 19}, {name: "type", title: "TYPE", width: 6},
		{name: "pushed", title: "PUSHED", width: 9, quantity: true}, {name: "pull", title: "LAST PULL", width: 9, quantity: true},
		{name: "upstream", title: "UPSTREAM", width: 12}, {name: "platforms", title: "PLATFORMS", width: 20}}
	s := &imagesScreen{repo: repo}
	s.listScreen = &listScreen{title: model.Printable(repo), tabN: 1}
	s.list = newList(c, "images", "This repository holds no image.", cols, func() []row {
		r := c.snap.Repository(repo)
		if r == nil {
			return nil
		}
		return imageRows(r, s.upstream, c.now())
	})
	s.order = "images with the most tags first"
	s.describe = func(r *row) any { return r.ref.(imageRef).img }
	s.open = func(r *row) tea.Cmd {
		c.nav.push(newDescribeScreen(c, s.title, s.describe(r)))
		return nil
	}
	s.explain = func(r *row) string {
		img := r.ref.(imageRef)
		if len(img.img.Tags) == 0 {
			return ""
		}
		return explainable(c.snap, model.Subject{Kind: "image", Name: img.repo.Name + ":" + img.img.Tags[0]})
	}
	return s
}

func (s *imagesScreen) Update(msg tea.Msg) tea.Cmd {
	if m, ok := msg.(upstreamMsg); ok {
		if m.id == s.probeID {
			s.upstream = m.digests
			s.built = -1
		}
		return nil
	}
	return s.listScreen.Update(msg)
}

// close cancels the probes and drops their answers, late or not.
func (s *imagesScreen) close() {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	s.probeID = 0
}

// probe asks the upstream for the digest of each cached tag, to show which tags moved.
func (s *imagesScreen) probe() tea.Cmd {
	c := s.c
	if c.snap == nil {
		return nil
	}
	repo := c.snap.Repository(s.repo)
	if repo == nil || repo.RulePrefix == "" {
		return nil
	}
	rule := c.snap.Rule(repo.RulePrefix)
	if rule == nil {
		return nil
	}
	s.close()
	s.probeID = c.nextID()
	ctx, cancel := context.WithCancel(c.ctx)
	s.cancel = cancel
	eng, r, name, id := c.eng, *rule, repo.Name, s.probeID
	var tags []string
	for _, img := range repo.Images {
		tags = append(tags, img.Tags...)
	}
	if len(tags) > 50 {
		tags = tags[:50]
	}
	return c.track(func() tea.Msg {
		out := map[string]string{}
		for _, tag := range tags {
			if ctx.Err() != nil {
				break // the screen was left: nobody reads the rest
			}
			p := eng.ProbeUpstream(ctx, r, r.UpstreamURL+"/"+model.UpstreamPath(&r, name)+":"+tag)
			if p.Exists {
				out[tag] = p.Digest
			} else {
				out[tag] = "? " + p.Class
			}
		}
		return upstreamMsg{id: id, digests: out}
	})
}

func imageRows(repo *model.Repository, upstream map[string]string, now time.Time) []row {
	imgs := make([]*model.Image, 0, len(repo.Images))
	for i := range repo.Images {
		imgs = append(imgs, &repo.Images[i])
	}
	sort.SliceStable(imgs, func(i, j int) bool { return len(imgs[i].Tags) > len(imgs[j].Tags) })
	rows := make([]row, 0, len(imgs))
	for _, img := range imgs {
		kind := "image"
		platforms := ""
		if img.IsIndex() {
			kind = "index"
			var parts []string
			for _, c := range img.Children() {
				if c.Present {
					parts = append(parts, c.Platform)
				} else {
					parts = append(parts, c.Platform+" MISSING")
				}
			}
			platforms = strings.Join(parts, ", ")
		}
		tags := strings.Join(img.Tags, ",")
		if tags == "" {
			tags = "<untagged>"
		}
		digest, pushed, pull := img.Digest.String(), img.PushedAt.Time(), img.LastPull.Time()
		rows = append(rows, row{id: digest, ref: imageRef{repo, img},
			cells: map[string]string{"tags": model.Printable(tags), "digest": shortDigest(digest), "type": kind,
				"pushed": ago(pushed, now), "pull": ago(pull, now), "upstream": upstreamState(img, upstream),
				"platforms": model.Printable(platforms)},
			nums: map[string]float64{"pushed": age(pushed, now), "pull": age(pull, now)}})
	}
	return rows
}

// upstreamState compares a cached image with its tag's digest upstream, once probed.
func upstreamState(img *model.Image, upstream map[string]string) string {
	if len(img.Tags) == 0 || upstream == nil {
		return ""
	}
	d, ok := upstream[img.Tags[0]]
	switch {
	case !ok:
		return ""
	case img.Digest.Is(d):
		return "same"
	case strings.HasPrefix(d, "?"):
		return model.Printable(d)
	}
	return "MOVED " + shortDigest(d)[7:]
}
