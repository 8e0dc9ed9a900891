package diagnose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// Verdict is what the diagnosis made after a fix says of the finding it fixed.
type Verdict struct {
	// Still is the finding seen again: the same key.
	Still *model.Finding
	// Appeared are findings at error severity that the diagnosis before the fix did not
	// have, on the same subject, or of the same check on the same repository under another
	// name (a reference to it, an image in it): the fix moved the problem, it did not
	// remove it.
	Appeared []model.Finding
	// Moved are those of Appeared that are the fixed finding's own check on the same
	// repository under another name: the problem still there, not a new one.
	Moved []model.Finding
	// NotChecked is set when the check could not judge the subject after the fix: a
	// finding that could not be looked for is not a finding gone.
	NotChecked []model.NotChecked
}

// Fixed reports whether the finding is gone, the subject was judged, and nothing new at
// error severity appeared on it.
func (v Verdict) Fixed() bool {
	return v.Still == nil && len(v.Appeared) == 0 && len(v.NotChecked) == 0
}

// String words the verdict for a person: "fixed", or why not.
func (v Verdict) String() string {
	switch {
	case v.Still != nil:
		return "NOT fixed, still failing: " + model.Printable(v.Still.Title)
	case len(v.Moved) > 0:
		// The finding's key is gone only because its subject's name changed: say it is
		// still failing, and as what, rather than "gone", which reads as progress.
		var as []string
		for _, f := range v.Moved {
			if strings.Contains(f.Title, f.Subject.Name) {
				as = append(as, "["+f.ID()+"] "+model.Printable(f.Title)) // the title names it
				continue
			}
			as = append(as, "the "+model.Printable(f.Subject.Kind+" "+f.Subject.Name)+" (["+f.ID()+"] "+model.Printable(f.Title)+")")
		}
		s := "NOT fixed, still failing as " + strings.Join(as, "; ")
		if others := v.Appeared[len(v.Moved):]; len(others) > 0 {
			s += "; and in its place, new at error severity: " + titled(others)
		}
		return s
	case len(v.Appeared) > 0:
		return "NOT fixed: the finding is gone, but in its place, new at error severity: " + titled(v.Appeared)
	case len(v.NotChecked) > 0:
		n := v.NotChecked[0]
		more := ""
		if len(v.NotChecked) > 1 {
			more = fmt.Sprintf(", and %d more reads of its scope", len(v.NotChecked)-1)
		}
		return "could not confirm: the check could not look again at " + model.Printable(n.Subject.Kind+" "+n.Subject.Name) + " (" + n.Failed.Operation + " failed: " +
			model.Printable(strings.TrimSpace(n.Failed.Code+" "+n.Failed.Message)) + more + ")"
	}
	return "fixed"
}

func titled(fs []model.Finding) string {
	var titles []string
	for _, f := range fs {
		titles = append(titles, "["+f.ID()+"] "+model.Printable(f.Title))
	}
	return strings.Join(titles, "; ")
}

// Recheck judges a finding that a fix was applied for, by its key, against the diagnosis
// made after the fix. before are the findings the fix was chosen from. The CLI and the
// interface both use it, so that "fixed" means the same everywhere.
func Recheck(f model.Finding, before []model.Finding, after Result) Verdict {
	var v Verdict
	had := map[string]bool{}
	for _, b := range before {
		had[b.Key()] = true
	}
	key := f.Key()
	var others []model.Finding
	for i := range after.Findings {
		g := &after.Findings[i]
		switch {
		case g.Key() == key:
			v.Still = g
		case g.Severity != model.SeverityError || had[g.Key()]:
		case g.Check == f.Check && g.Subject != f.Subject && sameRepository(f.Subject, g.Subject):
			v.Moved = append(v.Moved, *g)
		case g.Subject == f.Subject:
			others = append(others, *g)
		}
	}
	// Appeared lists the moved first, so that Moved is its head.
	v.Appeared = append(slices.Clip(v.Moved), others...)
	for _, n := range after.NotChecked {
		if n.Check == f.Check && inScope(f.Subject, n.Subject) {
			v.NotChecked = append(v.NotChecked, n)
		}
	}
	return v
}

// sameRepository reports whether two subjects name one repository: a repository, an
// image in it (repo:tag, repo@digest) or a reference to it (host/repo:tag). Deleting a
// wrongly named repository leaves the wrong name in use by whatever pulls it: the same
// check then finds the reference, and that is the finding still there, not a new one.
func sameRepository(a, b model.Subject) bool {
	ra, rb := repositoryOf(a), repositoryOf(b)
	return ra != "" && ra == rb
}

func repositoryOf(s model.Subject) string {
	name := s.Name
	switch s.Kind {
	case "repository":
		return strings.TrimSuffix(name, "/")
	case "reference":
		if host, rest, ok := strings.Cut(name, "/"); ok && strings.ContainsAny(host, ".:") {
			name = rest
		}
	case "image":
	default:
		return ""
	}
	if i := strings.Index(name, "@"); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	return name
}

// inScope reports whether a subject the check could not judge falls within a finding's
// scope: the subject itself, and what it aggregates (the repositories and images under a
// rule's or template's prefix, or under "prefix/"; the images of a repository). A finding
// about several repositories is gone only when each of them was read again.
func inScope(finding, s model.Subject) bool {
	if s == finding || s.Kind == everySubject.Kind {
		return true
	}
	name := finding.Name
	switch {
	case finding.Kind == "rule" && name == "ROOT", finding.Kind == "registry":
		return s.Kind == "repository" || s.Kind == "image"
	case finding.Kind == "rule", finding.Kind == "template":
		return strings.HasPrefix(s.Name, name+"/")
	case strings.HasSuffix(name, "/"):
		return strings.HasPrefix(s.Name, name)
	case finding.Kind == "repository":
		return strings.HasPrefix(s.Name, name+":") || strings.HasPrefix(s.Name, name+"@")
	}
	return false
}
