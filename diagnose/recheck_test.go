package diagnose_test

import (
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// The check after a fix compares keys, not titles: a template with two findings, one
// fixed, reads fixed for that one and still failing for the other; a fix that makes a
// new error on the same subject, or after which the check could not look, is not fixed.
func TestRecheckComparesKeys(t *testing.T) {
	tpl := model.Subject{Kind: "template", Name: "kubernetes"}
	immutable := model.Finding{Check: "creation-template", Subject: tpl, Distinct: "immutable tags", Severity: model.SeverityWarning, Title: "The template kubernetes makes cache repositories with immutable tags"}
	noRole := model.Finding{Check: "creation-template", Subject: tpl, Distinct: "no creation role", Severity: model.SeverityError, Title: "The template kubernetes sets resource tags without a repository creation role"}
	before := []model.Finding{immutable, noRole}

	after := diagnose.Result{Findings: []model.Finding{noRole}}
	if v := diagnose.Recheck(immutable, before, after); !v.Fixed() {
		t.Fatalf("the fixed finding reads %q", v)
	}
	if v := diagnose.Recheck(noRole, before, after); v.Fixed() || v.Still == nil {
		t.Fatalf("the unfixed finding reads %q", v)
	}

	moved := model.Finding{Check: "credentials", Subject: tpl, Severity: model.SeverityError, Title: "something new"}
	if v := diagnose.Recheck(immutable, before, diagnose.Result{Findings: []model.Finding{noRole, moved}}); v.Fixed() || len(v.Appeared) != 1 {
		t.Fatalf("a new error on the subject reads %q", v)
	}

	unknown := diagnose.Result{NotChecked: []model.NotChecked{{Check: "creation-template", Subject: model.Subject{Kind: "all", Name: "every subject of the check"},
		Failed: model.PartError{Operation: "DescribeRepositoryCreationTemplates", Code: "ThrottlingException", Message: "Rate exceeded"}}}}
	if v := diagnose.Recheck(noRole, before, unknown); v.Fixed() || len(v.NotChecked) == 0 {
		t.Fatalf("a finding that could not be looked for reads %q", v)
	}
}

// A wrongly named repository deleted while something still pulls the wrong name: the same
// check now finds the reference. That is the problem still there under another subject,
// not a fix; a finding of that check on another repository is not counted against it.
func TestRecheckCountsTheSameProblemUnderAnotherName(t *testing.T) {
	repo := model.Finding{Check: "name-mismatch", Subject: model.Subject{Kind: "repository", Name: "docker-hub/nginx"}, Severity: model.SeverityError, Title: "docker-hub/nginx cannot work"}
	ref := model.Finding{Check: "name-mismatch", Subject: model.Subject{Kind: "reference", Name: "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/nginx:latest"}, Severity: model.SeverityError, Title: "the reference cannot work"}
	other := model.Finding{Check: "name-mismatch", Subject: model.Subject{Kind: "reference", Name: "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/nginx-unprivileged:latest"}, Severity: model.SeverityError, Title: "another"}
	if v := diagnose.Recheck(repo, []model.Finding{repo}, diagnose.Result{Findings: []model.Finding{ref}}); v.Fixed() || len(v.Appeared) != 1 {
		t.Fatalf("the same repository's reference after the fix reads %q", v)
	}
	if v := diagnose.Recheck(repo, []model.Finding{repo}, diagnose.Result{Findings: []model.Finding{other}}); !v.Fixed() {
		t.Fatalf("another repository's finding reads %q", v)
	}
	img := model.Finding{Check: "name-mismatch", Subject: model.Subject{Kind: "image", Name: "docker-hub/nginx@sha256:0123"}, Severity: model.SeverityError}
	if v := diagnose.Recheck(repo, []model.Finding{repo}, diagnose.Result{Findings: []model.Finding{img}}); v.Fixed() {
		t.Fatalf("an image of the same repository reads %q", v)
	}
}

// Ids are the key's hash: stable, 8 hex digits, and distinct where keys are.
func TestFindingIDs(t *testing.T) {
	a := model.Finding{Check: "name-mismatch", Subject: model.Subject{Kind: "repository", Name: "docker-hub/nginx"}}
	if a.ID() != "0c17cf2c" || a.Key() != "name-mismatch|repository|docker-hub/nginx" {
		t.Fatalf("%s %s", a.ID(), a.Key())
	}
	b := a
	b.Distinct = "other"
	if b.ID() == a.ID() {
		t.Fatal("two keys, one id")
	}
}

// Every check a cause of explain --error points to is in the catalog: `doctor --check`
// with it must work.
func TestCausesNameChecksOfTheCatalog(t *testing.T) {
	for _, c := range diagnose.Causes {
		if _, ok := diagnose.CheckByID(c.Check); c.Check != "" && !ok {
			t.Errorf("cause %s names the check %q, which the catalog lacks", c.ID, c.Check)
		}
	}
}

// A finding that aggregates subjects (the repositories under a prefix) is gone only when
// each of them was read again: a repository of its scope that the check could not judge
// after the fix makes "could not confirm", never "fixed"; one outside it does not.
func TestRecheckNeedsEveryReadOfTheFindingsScope(t *testing.T) {
	orphans := model.Finding{Check: "orphan-repository", Subject: model.Subject{Kind: "repository", Name: "legacy-hub/"}, Severity: model.SeverityWarning}
	lifecycle := model.Finding{Check: "no-lifecycle", Subject: model.Subject{Kind: "rule", Name: "quay"}, Severity: model.SeverityWarning}
	denied := model.PartError{Operation: "DescribeImages", Code: "AccessDeniedException", Message: "not authorized"}
	for _, c := range []struct {
		f      model.Finding
		in     model.Subject
		inside bool
	}{
		{orphans, model.Subject{Kind: "repository", Name: "legacy-hub/library/python"}, true},
		{orphans, model.Subject{Kind: "repository", Name: "legacy-hubx/library/python"}, false},
		{lifecycle, model.Subject{Kind: "repository", Name: "quay/coreos/etcd"}, true},
		{lifecycle, model.Subject{Kind: "repository", Name: "docker-hub/library/alpine"}, false},
	} {
		after := diagnose.Result{NotChecked: []model.NotChecked{{Check: c.f.Check, Subject: c.in, Failed: denied}}}
		v := diagnose.Recheck(c.f, []model.Finding{c.f}, after)
		if v.Fixed() == c.inside {
			t.Errorf("%s, %s not checked after: %q", c.f.Subject.Name, c.in.Name, v)
		}
		if c.inside && !strings.HasPrefix(v.String(), "could not confirm") {
			t.Errorf("%s: %q", c.f.Subject.Name, v)
		}
	}
	moved := model.Finding{Check: "credentials", Subject: orphans.Subject, Severity: model.SeverityError, Title: "new"}
	if v := diagnose.Recheck(orphans, nil, diagnose.Result{Findings: []model.Finding{moved}}); !strings.HasPrefix(v.String(), "NOT fixed") {
		t.Errorf("a new error reads %q", v)
	}
}

// The same problem under another name reads as still failing, and as what, not as "the
// finding is gone", which reads as progress; another check's new error on the subject
// still reads as new in its place.
func TestRecheckSaysTheMovedProblemIsStillFailing(t *testing.T) {
	repo := model.Finding{Check: "name-mismatch", Subject: model.Subject{Kind: "repository", Name: "docker-hub/nginx"}, Severity: model.SeverityError, Title: "docker-hub/nginx cannot work"}
	ref := model.Finding{Check: "name-mismatch", Subject: model.Subject{Kind: "reference", Name: "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/nginx:latest"}, Severity: model.SeverityError, Title: "the reference cannot work"}
	v := diagnose.Recheck(repo, []model.Finding{repo}, diagnose.Result{Findings: []model.Finding{ref}})
	if s := v.String(); !strings.HasPrefix(s, "NOT fixed, still failing as the reference 111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/nginx:latest (["+ref.ID()+"] the reference cannot work)") ||
		strings.Contains(s, "gone") || strings.Contains(s, "in its place") {
		t.Fatalf("the same problem under another name reads %q", s)
	}
	other := model.Finding{Check: "credentials", Subject: repo.Subject, Severity: model.SeverityError, Title: "something new"}
	v = diagnose.Recheck(repo, []model.Finding{repo}, diagnose.Result{Findings: []model.Finding{other, ref}})
	if s := v.String(); v.Fixed() || len(v.Appeared) != 2 || !strings.HasPrefix(s, "NOT fixed, still failing as the reference") ||
		!strings.Contains(s, "; and in its place, new at error severity: ["+other.ID()+"] something new") {
		t.Fatalf("moved and a new error read %q", s)
	}
	// A title that names the reference is not preceded by the name again.
	ref.Title = ref.Subject.Name + " cannot work: use 111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx:latest"
	if s := diagnose.Recheck(repo, []model.Finding{repo}, diagnose.Result{Findings: []model.Finding{ref}}).String(); s != "NOT fixed, still failing as ["+ref.ID()+"] "+ref.Title {
		t.Fatalf("a title naming the reference reads %q", s)
	}
	if s := diagnose.Recheck(repo, []model.Finding{repo}, diagnose.Result{Findings: []model.Finding{other}}).String(); !strings.HasPrefix(s, "NOT fixed: the finding is gone, but in its place, new at error severity: ") {
		t.Fatalf("another check's new error reads %q", s)
	}
}
