package ecrops

import (
	"time"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// RegistryPolicyDecisionForFuzz exposes the registry policy reader to the fuzz target.
func RegistryPolicyDecisionForFuzz(policy, principal, action, resource string) (bool, bool) {
	return registryPolicyDecision(policy, principal, principal, action, resource)
}

// SetTestHookPolicyRead runs f between a registry policy change's read and its re-read.
func SetTestHookPolicyRead(f func()) { testHookPolicyRead = f }

// SetTestHookWritten runs f after a step's write succeeded, before its outcome is journaled.
func SetTestHookWritten(f func(s model.Step)) { testHookWritten = f }

// SetTestHookBeforeWrite runs f after a step's check, just before its write.
func SetTestHookBeforeWrite(f func(s model.Step)) { testHookBeforeWrite = f }

// SetPingClock sets the clock by which the account's learned ping failures age.
func (a *Account) SetPingClock(now func() time.Time) { a.pings.now = now }
