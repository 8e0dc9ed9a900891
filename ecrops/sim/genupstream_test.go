package sim_test

import (
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim/simtest"
)

// A generated account's upstream serves the images its rules cached: the same digests
// under every rule that mirrors a path, whole images (config and layer) that validate,
// its tag list, by digest as by tag, and nothing beyond what was generated. A cached tag
// deleted is pulled through again to the same digest.
func TestGeneratedUpstreamServesTheCachedImages(t *testing.T) {
	s := startYAML(t, "generate: {rules: 2, repositoriesPerRule: 3, imagesPerRepository: 4}\n")
	c := ctx(t)
	upstream := strings.TrimPrefix(s.srv.Info().Resolve["public.ecr.aws"], "http://")
	cached := func(repo, tag string) string {
		out, err := s.ecr.DescribeImages(c, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String(tag)}}})
		if err != nil {
			t.Fatalf("%s:%s: %v", repo, tag, err)
		}
		return *out.ImageDetails[0].ImageDigest
	}
	for _, path := range []string{"team/app-0001", "team/app-0003"} {
		for _, tag := range []string{"v1", "v4"} {
			ref := mustRef(t, upstream+"/"+path+":"+tag)
			img, err := remote.Image(ref)
			if err != nil {
				t.Fatalf("%s: %v", ref, err)
			}
			wholeImage(t, img)
			d, _ := img.Digest()
			for _, rule := range []string{"gen-01", "gen-02"} {
				if got := cached(rule+"/"+path, tag); got != d.String() {
					t.Fatalf("%s/%s:%s is cached as %s; the upstream serves %s", rule, path, tag, got, d)
				}
			}
			if _, err := remote.Head(mustRef(t, upstream+"/"+path+"@"+d.String())); err != nil {
				t.Fatalf("by digest: %v", err)
			}
		}
	}
	tags, err := remote.List(mustRef(t, upstream+"/team/app-0002:v1").Context())
	sort.Strings(tags)
	if err != nil || strings.Join(tags, ",") != "v1,v2,v3,v4" {
		t.Fatalf("tags %v, %v", tags, err)
	}
	for _, missing := range []string{"team/app-0002:v5", "team/app-0004:v1", "team/app-2:v1", "team/app-0002:v01"} {
		_, err := remote.Head(mustRef(t, upstream+"/"+missing))
		wantStatus(t, err, http.StatusNotFound, "", "")
	}

	before := cached("gen-01/team/app-0002", "v2")
	if _, err := s.ecr.BatchDeleteImage(c, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("gen-01/team/app-0002"),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v2")}}}); err != nil {
		t.Fatal(err)
	}
	if d, err := s.puller().get("gen-01/team/app-0002:v2"); err != nil || d.Digest.String() != before {
		t.Fatalf("pulled through again: %v, %v; want %s", d, err, before)
	}
}

// A generated fleet's upstream holds one set of the generated images, whichever
// account-region caches them: two accounts' caches hold the digests it serves.
func TestGeneratedFleetSharesItsUpstream(t *testing.T) {
	f := simtest.StartFleet(t, "name: gen\ngenerate: {accounts: 2, regions: [us-east-1, eu-west-1], rules: 1, repositoriesPerRule: 2, imagesPerRepository: 2}\n")
	info := f.Info()
	upstream := strings.TrimPrefix(info.Resolve["public.ecr.aws"], "http://")
	d, err := remote.Head(mustRef(t, upstream+"/team/app-0002:v2"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range info.Accounts {
		for _, r := range a.Regions {
			cfg := assumed(f, r.Region, "arn:aws:iam::"+a.ID+":role/ptcdoctor-audit")
			out, err := ecr.NewFromConfig(cfg).DescribeImages(ctx(t), &ecr.DescribeImagesInput{RepositoryName: aws.String("gen-01/team/app-0002"),
				ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v2")}}})
			if err != nil || *out.ImageDetails[0].ImageDigest != d.Digest.String() {
				t.Fatalf("%s %s: %v, want %s", a.ID, r.Region, err, d.Digest)
			}
		}
	}
}

// wholeImage reads an image's config and layers: remote checks each against its digest.
func wholeImage(t *testing.T, img v1.Image) {
	t.Helper()
	if _, err := img.ConfigFile(); err != nil {
		t.Fatalf("config: %v", err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) == 0 {
		t.Fatalf("layers: %v", err)
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			t.Fatalf("layer: %v", err)
		}
	}
}
