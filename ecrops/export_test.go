package ecrops

// RegistryPolicyDecisionForFuzz exposes the registry policy reader to the fuzz target.
func RegistryPolicyDecisionForFuzz(policy, principal, action, resource string) (bool, bool) {
	return registryPolicyDecision(policy, principal, principal, action, resource)
}
