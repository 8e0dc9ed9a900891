package diagnose_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// A repository no rule covers exists (made by hand, or left by a deleted rule): ECR
// serves what it holds and answers a tag it lacks with "manifest unknown", as the
// stand-in now does; explain must not say "the repository does not exist".
func TestExplainARepositoryNoRuleCovers(t *testing.T) {
	_, acc := account(t, "demo")
	snap, err := acc.Scan(context.Background(), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	explain := func(in string) diagnose.Explanation {
		ref, _ := model.ParseRef(in, snap.AccountID, snap.Region, snap.Rules)
		return diagnose.Explain(context.Background(), snap, acc, ref, diagnose.Options{})
	}
	missing := explain(reg + "legacy-hub/library/node:22")
	if !strings.Contains(missing.Verdict, "does not hold 22") || strings.Contains(missing.Verdict, "does not exist") {
		t.Fatalf("a tag the orphan lacks: %q", missing.Verdict)
	}
	held := explain(reg + "legacy-hub/library/node:20")
	for _, s := range held.Steps {
		if s.Status == "failed" {
			t.Fatalf("a tag the orphan holds: %s failed: %s (%q)", s.Name, s.Detail, held.Verdict)
		}
	}
	absent := explain(reg + "nowhere/app:1")
	if !strings.Contains(absent.Verdict, "does not exist") {
		t.Fatalf("no repository: %q", absent.Verdict)
	}
}

// An image in the archive storage class is described but cannot be pulled (ECR answers
// 404, archive-image.html): explain must not call it cached and fine.
func TestExplainAnArchivedImage(t *testing.T) {
	srv, acc := account(t, "demo")
	info := srv.Info()
	client := ecr.New(ecr.Options{Region: info.Region, BaseEndpoint: aws.String(info.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, "")})
	if _, err := client.UpdateImageStorageClass(context.Background(), &ecr.UpdateImageStorageClassInput{
		RepositoryName: aws.String("ecr-public/amazonlinux/amazonlinux"), ImageId: &ecrtypes.ImageIdentifier{ImageTag: aws.String("2023")},
		TargetStorageClass: ecrtypes.TargetStorageClassArchive}); err != nil {
		t.Fatal(err)
	}
	snap, err := acc.Scan(context.Background(), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := model.ParseRef(reg+"ecr-public/amazonlinux/amazonlinux:2023", snap.AccountID, snap.Region, snap.Rules)
	ex := diagnose.Explain(context.Background(), snap, acc, ref, diagnose.Options{})
	last := ex.Steps[len(ex.Steps)-1]
	if last.Status != "failed" || !strings.Contains(last.Detail, "archived") {
		t.Fatalf("an archived image: %+v\n%s", last, ex.Verdict)
	}
}
