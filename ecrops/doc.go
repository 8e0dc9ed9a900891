// Package ecrops holds all of ptcdoctor's I/O to AWS and to container registries: the
// scan of an account into a model.Snapshot, the read-only probes, the repair steps, the
// journal of writes and the read-only guard.
package ecrops
