package model

import (
	"crypto/sha256"
	"encoding/hex"
)

// The parts of a scan, as the snapshot's Errors name them. The scan records a failed
// read under these names, and the checks look a part up by the same name, so that a
// check never mistakes a part it could not read for an empty one.
const (
	PartIdentity       = "caller identity"
	PartRules          = "pull through cache rules"
	PartTemplates      = "repository creation templates"
	PartRegistryPolicy = "registry policy"
	PartRepositories   = "repositories"
)

// PartImages names the image listing of one repository.
func PartImages(repo string) string { return "repository " + repo + " images" }

// PartLifecycle names the lifecycle policy of one repository.
func PartLifecycle(repo string) string { return "repository " + repo + " lifecycle policy" }

// PartIndexes names the index manifests of one repository (which platforms are cached).
func PartIndexes(repo string) string { return "repository " + repo + " index manifests" }

// PartFailed returns the error of a part of the scan that could not be read, or nil.
func (s *Snapshot) PartFailed(part string) *PartError {
	for i := range s.Errors {
		if s.Errors[i].Part == part {
			return &s.Errors[i]
		}
	}
	return nil
}

// NotChecked is a subject that a check could not judge, because a read it stands on
// failed or was not made. It is reported instead of a finding: absence of evidence is
// not evidence of absence.
type NotChecked struct {
	Check string
	// Subject is what could not be judged; Kind "all" when the whole check could not run.
	Subject Subject
	// Needs names the part of the snapshot or the probe that is missing.
	Needs string
	// Failed is the call that failed (or was not made), with the error it got.
	Failed PartError
}

// Key identifies a finding across runs, filters and screens: its check, its subject and
// what tells it apart from the check's other findings on that subject. It never holds
// counts or other figures that change from one run to the next.
func (f Finding) Key() string {
	k := f.Check + "|" + f.Subject.Kind + "|" + f.Subject.Name
	if f.Distinct != "" {
		k += "|" + f.Distinct
	}
	return k
}

// ID is the short, stable name of a finding that `doctor` prints and `fix --finding`
// takes: the first 8 hex digits of the SHA-256 of its key.
func (f Finding) ID() string { return ShortID(f.Key()) }

// ShortID is the 8 hex digits of the SHA-256 of a key.
func ShortID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:4])
}
