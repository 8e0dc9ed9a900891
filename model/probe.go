package model

import "time"

// What the probes saw. They read without changing anything; diagnose reasons over them.

// UpstreamProbe is what an upstream registry said about one reference.
type UpstreamProbe struct {
	Reference string
	// Anonymous is true when the probe did not use the rule's credentials, and Why says why.
	Anonymous bool
	Why       string
	// SecretError is the read of the rule's secret that failed, when the probe went
	// anonymous because of it: its answer says nothing of the rule's credentials.
	SecretError *PartError
	Exists      bool
	Digest      string
	MediaType   string
	Platforms   []string
	RateLimit   *RateLimit
	Status      int
	// Class sorts a failure: unauthorized, forbidden, not-found, rate-limited, server-error,
	// client-error, network, invalid.
	Class   string
	Message string
}

// UpstreamTags is the first page of an upstream repository's tag list: how a probe learns
// a tag to ask for when it cannot assume `latest` exists.
type UpstreamTags struct {
	Repository string // host/path
	Anonymous  bool
	Why        string
	Tags       []string
	Status     int
	Class      string // as UpstreamProbe's; "" when the list was read
	Message    string
}

// RateLimit is a Docker Hub-style pull window, from the ratelimit-* headers of a manifest answer.
type RateLimit struct {
	Limit, Remaining int
	WindowSeconds    int
	Source           string
}

// CacheProbe is what the cache holds for one reference.
type CacheProbe struct {
	Repository       string
	RepositoryExists bool
	Cached           bool
	Digest           string
	MediaType        string
	LastPull         time.Time
	// Archived is set when the image is in ECR's archive storage class (imageStatus
	// ARCHIVED or ACTIVATING): ECR still describes it but answers a pull 404 until it is restored.
	Archived bool
	Children []ChildManifest
	Error    *PartError
}

// PermissionProbe says, for each pull-through action, whether a principal may take it.
type PermissionProbe struct {
	Principal  string // the IAM ARN that was simulated
	Repository string
	// Decisions are IAM's (allowed, implicitDeny, explicitDeny) for the principal's own policies.
	Decisions map[string]string
	// RegistryPolicy says which actions the registry policy grants the principal.
	RegistryPolicy map[string]bool
	Missing        []string
	Error          *PartError
}
