package model

// Severity orders findings: an error breaks pulls now, a warning will or may, info is advice.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Rank orders severities, errors first.
func (s Severity) Rank() int {
	switch s {
	case SeverityError:
		return 0
	case SeverityWarning:
		return 1
	}
	return 2
}

// Subject is what a finding is about.
type Subject struct {
	Kind string // rule, repository, image, reference, template, secret, principal, registry
	Name string
}

// Evidence is one call ptcdoctor made and what it was answered: the finding rests on it.
type Evidence struct {
	Call   string
	Answer string
}

// Fix is one way to repair a finding: a plan to apply, or, where no API call can do it,
// what to do by hand (Manual).
type Fix struct {
	Title  string
	Plan   Plan
	Manual string
}

// Finding is one thing wrong, or about to go wrong, with why and how to fix it.
type Finding struct {
	Check    string
	Severity Severity
	Subject  Subject
	// Distinct tells the finding apart from the check's other findings on the same
	// subject (which gap, which setting); it is part of the Key.
	Distinct    string `json:",omitempty"`
	Title       string
	Explanation string
	Evidence    []Evidence
	Fixes       []Fix
}
