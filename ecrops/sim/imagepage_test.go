package sim_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// DescribeImages pages through a large repository in order, each image once, whatever the
// page size and the tag filter; an image deleted between pages moves no other image.
func TestDescribeImagesPagesALargeRepository(t *testing.T) {
	s := startYAML(t, "generate: {rules: 1, repositoriesPerRule: 1, imagesPerRepository: 2500}\n")
	c := ctx(t)
	client := s.ecr // one attempt: a page broken off would fail the test (ecrops/sdkbody.go)
	repo := aws.String("gen-01/team/app-0001")
	list := func(size int32, status ecrtypes.TagStatus, between func(page int)) []ecrtypes.ImageDetail {
		var out []ecrtypes.ImageDetail
		p := ecr.NewDescribeImagesPaginator(client, &ecr.DescribeImagesInput{RepositoryName: repo,
			MaxResults: aws.Int32(size), Filter: &ecrtypes.DescribeImagesFilter{TagStatus: status}})
		for n := 0; p.HasMorePages(); n++ {
			page := must[*ecr.DescribeImagesOutput](t)(p.NextPage(c))
			if len(page.ImageDetails) > int(size) {
				t.Fatalf("a page of %d holds %d", size, len(page.ImageDetails))
			}
			out = append(out, page.ImageDetails...)
			if between != nil {
				between(n)
			}
		}
		return out
	}
	for _, size := range []int32{1000, 7} {
		got := list(size, ecrtypes.TagStatusAny, nil)
		if len(got) != 2500 {
			t.Fatalf("pages of %d: %d images, want 2500", size, len(got))
		}
		seen := map[string]bool{}
		for i, d := range got {
			if seen[*d.ImageDigest] {
				t.Fatalf("pages of %d: %s served twice", size, *d.ImageDigest)
			}
			seen[*d.ImageDigest] = true
			if len(d.ImageTags) != 1 {
				t.Fatalf("%s: tags %v", *d.ImageDigest, d.ImageTags)
			}
			if i > 0 && d.ImagePushedAt.After(*got[i-1].ImagePushedAt) {
				t.Fatalf("pages of %d: not newest first at %d", size, i)
			}
		}
	}
	if n := len(list(1000, ecrtypes.TagStatusUntagged, nil)); n != 0 {
		t.Fatalf("%d untagged images in a repository whose images are all tagged", n)
	}
	if n := len(list(1000, ecrtypes.TagStatusTagged, nil)); n != 2500 {
		t.Fatalf("%d tagged images, want 2500", n)
	}

	// Delete the first image of the listing while paging: the rest come once each.
	first := list(1000, ecrtypes.TagStatusAny, nil)[0]
	got := list(1000, ecrtypes.TagStatusAny, func(page int) {
		if page == 0 {
			must[*ecr.BatchDeleteImageOutput](t)(s.ecr.BatchDeleteImage(c, &ecr.BatchDeleteImageInput{RepositoryName: repo,
				ImageIds: []ecrtypes.ImageIdentifier{{ImageDigest: first.ImageDigest}}}))
		}
	})
	if len(got) != 2500 {
		t.Fatalf("deleting a served image mid-listing: %d images, want the 2500 seen", len(got))
	}

	_, err := s.ecr.DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: repo, NextToken: aws.String("bm90IGEgdG9rZW4")})
	wantCode(t, err, "InvalidParameterException", "nextToken")
}
