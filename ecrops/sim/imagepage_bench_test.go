package sim

import (
	"encoding/json"
	"testing"
	"time"
)

// BenchmarkDescribeImagesPage is the stand-in's own cost of one DescribeImages page of
// 1,000 in a repository of 100,000 images, answer encoding included: what a scan of that
// repository waits for on each of its 100 pages.
func BenchmarkDescribeImagesPage(b *testing.B) {
	now := time.Now()
	st, err := newState(&Scenario{Account: Account{ID: "111122223333", Region: "us-east-1"},
		Generate: &Generate{Rules: 1, RepositoriesPerRule: 1, ImagesPerRepository: 100000}}, now)
	if err != nil {
		b.Fatal(err)
	}
	r := st.repos["gen-01/team/app-0001"]
	keep := r.taggedFilter("ANY")
	first, _ := r.imagePage(nil, keep, 1000)
	mid := first[len(first)-1]
	after := &imageCursor{pushed: mid.PushedAt, digest: mid.Digest}
	b.ResetTimer()
	for range b.N {
		items, _ := r.imagePage(after, keep, 1000)
		tags := r.tagsFor(items)
		out := make([]imageDetail, 0, len(items))
		for _, img := range items {
			out = append(out, st.imageDetail(r, img, tags[img.Digest], now))
		}
		if _, err := json.Marshal(imageDetailsOut{ImageDetails: out}); err != nil {
			b.Fatal(err)
		}
	}
}
