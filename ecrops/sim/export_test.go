package sim

// SecretARN exposes, to tests only, the ARN the stand-in gave a secret in any region.
func SecretARN(s *Server, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.secrets[name].ARN
}
