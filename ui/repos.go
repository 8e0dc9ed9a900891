package ui

import (
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// The repositories screen: every repository, or those of one rule; enter lists a
// repository's images, e explains its latest tag.

func newReposScreen(c *common, rule string) *listScreen {
	cols := []column{{name: "repo", title: "REPOSITORY", width: 34, path: true}, {name: "rule", title: "RULE", width: 12},
		{name: "images", title: "IMAGES", width: 6, quantity: true}, {name: "size", title: "SIZE", width: 8, quantity: true},
		{name: "pull", title: "LAST PULL", width: 10, quantity: true}, {name: "findings", title: "FINDINGS", width: 10, quantity: true}}
	s := &listScreen{title: "Repositories", tabN: 1}
	empty := "No repository is cached yet: the first pull through a rule makes one."
	if rule != "" {
		s.title = "rule " + model.Printable(rule) + "/"
	}
	s.list = newList(c, "repositories", empty, cols, func() []row { return repoRows(c.snap, c.findings, rule, c.now()) })
	s.order = "repositories by name, A to Z"
	s.open = func(r *row) tea.Cmd {
		img := newImagesScreen(c, r.ref.(*model.Repository).Name)
		c.nav.push(img)
		return img.probe()
	}
	s.describe = func(r *row) any { return r.ref }
	s.explain = func(r *row) string {
		return explainable(c.snap, model.Subject{Kind: "repository", Name: r.ref.(*model.Repository).Name})
	}
	return s
}

func repoRows(snap *model.Snapshot, fs []model.Finding, rule string, now time.Time) []row {
	var rows []row
	for i := range snap.Repositories {
		r := &snap.Repositories[i]
		if rule != "" && r.RulePrefix != rule {
			continue
		}
		ruleCol := r.RulePrefix
		if ruleCol == "" {
			ruleCol = "(none)"
		}
		var size int64
		var last model.UnixTime
		for _, img := range r.Images {
			size += img.SizeBytes
			last = max(last, img.LastPull)
		}
		images := fmt.Sprint(len(r.Images))
		if !r.ImagesKnown {
			images = "?"
		}
		about := findingsAbout(fs, "repository", r.Name)
		rows = append(rows, row{id: r.Name, ref: r,
			cells: map[string]string{"repo": model.Printable(r.Name), "rule": model.Printable(ruleCol), "images": images,
				"size": humanBytes(size), "pull": ago(last.Time(), now), "findings": sevCounts(about)},
			nums: map[string]float64{"images": float64(len(r.Images)), "size": float64(size), "pull": age(last.Time(), now),
				"findings": severityWeight(about)}})
	}
	return rows
}
