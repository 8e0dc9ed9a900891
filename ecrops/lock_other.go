//go:build !unix

package ecrops

import "context"

// lock is the machine's write lock where flock is missing: none. Runs on one machine
// then rely on the re-checks alone, as runs on two machines always do.
func (j *Journal) lock(context.Context) (func(), error) { return func() {}, nil }
