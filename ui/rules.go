package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// The rules screen: the account's pull through cache rules; enter lists a rule's
// repositories, d shows a rule with the creation template that shapes them.

func newRulesScreen(c *common) *listScreen {
	cols := []column{{name: "prefix", title: "PREFIX", width: 14}, {name: "upstream", title: "UPSTREAM", width: 22},
		{name: "creds", title: "CREDENTIALS", width: 24}, {name: "valid", title: "VALID", width: 7},
		{name: "repos", title: "REPOS", width: 5, quantity: true}, {name: "images", title: "IMAGES", width: 6, quantity: true},
		{name: "findings", title: "FINDINGS", width: 10, quantity: true}}
	s := &listScreen{title: "Rules", tabN: 0}
	s.list = newList(c, "rules", "This account has no pull through cache rule in this region. :setup makes one, step by step, "+
		"showing the plan before anything is written.", cols, func() []row { return ruleRows(c.snap, c.findings) })
	s.order = "rules by prefix, A to Z"
	s.open = func(r *row) tea.Cmd {
		c.nav.push(newReposScreen(c, r.ref.(*model.Rule).Prefix))
		return nil
	}
	s.describe = func(r *row) any {
		rule := r.ref.(*model.Rule)
		return struct {
			Rule     *model.Rule
			Template *model.Template
		}{rule, model.TemplateFor(c.snap.Templates, rule.Prefix+"/x")}
	}
	return s
}

func ruleRows(snap *model.Snapshot, fs []model.Finding) []row {
	var rows []row
	for i := range snap.Rules {
		r := &snap.Rules[i]
		creds := "none"
		if r.Secret != nil && r.Secret.Name != "" {
			creds = r.Secret.Name
		} else if r.CredentialArn != "" {
			creds = r.CredentialArn
		}
		valid := "-"
		if v := r.Validation; v != nil {
			switch {
			case v.Error != nil:
				valid = "error"
			case v.IsValid:
				valid = "yes"
			default:
				valid = "NO"
			}
		}
		repos, images, unread := 0, 0, false
		for _, repo := range snap.Repositories {
			if repo.RulePrefix == r.Prefix {
				repos++
				images += len(repo.Images)
				unread = unread || !repo.ImagesKnown
			}
		}
		imageCell := fmt.Sprint(images)
		if unread { // a count of what could be read would pass for the whole: ? as Repositories says
			imageCell = fmt.Sprintf("%d+?", images)
			if images == 0 {
				imageCell = "?"
			}
		}
		about := findingsAbout(fs, "rule", r.Prefix)
		rows = append(rows, row{id: r.Prefix, ref: r,
			cells: map[string]string{"prefix": model.Printable(r.Prefix) + "/", "upstream": model.Printable(r.UpstreamURL),
				"creds": model.Printable(strings.TrimPrefix(creds, "ecr-pullthroughcache/")), "valid": valid,
				"repos": fmt.Sprint(repos), "images": imageCell, "findings": sevCounts(about)},
			nums: map[string]float64{"repos": float64(repos), "images": float64(images), "findings": severityWeight(about)}})
	}
	return rows
}
