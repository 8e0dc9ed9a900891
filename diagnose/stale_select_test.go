package diagnose

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// The stale-tag check picks its probes with a heap rather than sorting every cached tag
// (issue 15): the pick must be the first of the full order, and what it says was left
// must be what a full sort leaves.
func TestStaleJobsPickTheFirstOfTheFullOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		snap := &model.Snapshot{Rules: []model.Rule{{Prefix: "a"}, {Prefix: "b"}}}
		for range 1 + rng.IntN(12) {
			repo := model.Repository{Name: fmt.Sprintf("%s/app-%d", []string{"a", "b", "none"}[rng.IntN(3)], rng.IntN(6))}
			if p := repo.Name[:1]; p != "n" {
				repo.RulePrefix = p
			}
			for range rng.IntN(8) {
				img := model.Image{LastPull: model.UnixTime(rng.IntN(4))} // ties on purpose
				for range rng.IntN(3) {
					img.Tags = append(img.Tags, fmt.Sprint("v", rng.IntN(4))) // and duplicate tags
				}
				repo.Images = append(repo.Images, img)
			}
			snap.Repositories = append(snap.Repositories, repo)
		}
		var all []staleJob // the full order, as the check listed it before
		for i := range snap.Repositories {
			repo := &snap.Repositories[i]
			if r := snap.Rule(repo.RulePrefix); r != nil {
				for k := range repo.Images {
					for _, tag := range repo.Images[k].Tags {
						all = append(all, staleJob{r, repo, &repo.Images[k], tag, 0})
					}
				}
			}
		}
		sort.SliceStable(all, func(i, j int) bool {
			a, b := all[i], all[j]
			if a.img.LastPull != b.img.LastPull {
				return a.img.LastPull > b.img.LastPull
			}
			if a.repo.Name != b.repo.Name {
				return a.repo.Name < b.repo.Name
			}
			return a.tag < b.tag
		})
		for _, limit := range []int{1, 2, 5, len(all), len(all) + 3} {
			jobs, left := staleJobs(snap, limit)
			want := all[:min(limit, len(all))]
			if len(jobs) != len(want) {
				t.Fatalf("round %d, limit %d: %d jobs, want %d", round, limit, len(jobs), len(want))
			}
			for i := range want {
				if jobs[i].img != want[i].img || jobs[i].tag != want[i].tag {
					t.Fatalf("round %d, limit %d: job %d is %s:%s, want %s:%s", round, limit, i, jobs[i].repo.Name, jobs[i].tag, want[i].repo.Name, want[i].tag)
				}
			}
			rest := all[len(want):]
			repos := map[*model.Repository]bool{}
			for _, j := range rest {
				repos[j.repo] = true
			}
			if left.n != len(rest) || left.repos != len(repos) || len(rest) > 0 && (left.first.img != rest[0].img || left.first.tag != rest[0].tag) {
				t.Fatalf("round %d, limit %d: left %d in %d repositories, want %d in %d", round, limit, left.n, left.repos, len(rest), len(repos))
			}
		}
	}
}
