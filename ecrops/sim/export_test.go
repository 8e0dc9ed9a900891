package sim

// SecretARN exposes, to tests only, the ARN the stand-in gave a secret in any region.
func SecretARN(s *Server, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.secrets[name].ARN
}

// The parsers of outside input, for the fuzz targets.
func CheckLifecyclePolicy(text string) string { return checkLifecyclePolicy(text) }
func CheckPolicyDocument(text string) string  { return checkPolicyDocument(text) }
func ParseUpstreamCredentials(value string) (string, bool) {
	c, ok := parseUpstreamCredentials(value)
	return c.Username, ok
}
