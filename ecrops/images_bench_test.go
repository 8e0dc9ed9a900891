package ecrops

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// BenchmarkImagesKept measures what the scan keeps of an image (issue 15): 5,000
// repositories of 20 images, each repository's DescribeImages page decoded afresh (as the
// SDK does, then dropped) and stored as scanRepository stores it. B/image is the live heap
// the images add, after a collection, divided by their number: the model.Image, its share
// of the repository's slice and of the page's tags. The tags are the generated account's
// (v1 to v20 in every repository) or each image's own (1.<repository>.<image>, as a real
// account's versions are).
func BenchmarkImagesKept(b *testing.B) {
	for name, tag := range map[string]string{"shared-tags": "v%[2]d", "own-tags": "1.%[1]d.%[2]d"} {
		b.Run(name, func(b *testing.B) { benchmarkImagesKept(b, tag) })
	}
}

func benchmarkImagesKept(b *testing.B, tag string) {
	const repos, perRepo = 5000, 20
	now := time.Now()
	page := func(r int) []ecrtypes.ImageDetail {
		out := make([]ecrtypes.ImageDetail, perRepo)
		for i := range out {
			out[i] = ecrtypes.ImageDetail{ImageDigest: aws.String(fmt.Sprintf("sha256:%032x%032x", r, i+1)),
				ImageTags:              []string{fmt.Sprintf(tag, r, i+1)},
				ImageManifestMediaType: aws.String(strings.Clone("application/vnd.docker.distribution.manifest.v2+json")),
				ImageSizeInBytes:       aws.Int64(int64(1 << 20)), ImagePushedAt: aws.Time(now.Add(-time.Duration(i) * time.Hour)),
				LastRecordedPullTime: aws.Time(now.Add(-time.Duration(i) * 24 * time.Hour))}
		}
		return out
	}
	var perImage float64
	for range b.N {
		kept := make([][]model.Image, repos)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for r := range kept {
			p := page(r)
			kept[r] = join([][]model.Image{appendImages(make([]model.Image, 0, len(p)), p)})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perImage = float64(after.HeapAlloc-before.HeapAlloc) / (repos * perRepo)
		runtime.KeepAlive(kept)
	}
	b.ReportMetric(perImage, "B/image")
	b.ReportMetric(perImage*100000/1e6, "MB-per-100k")
}
