package model

import "testing"

func TestTagImmutable(t *testing.T) {
	for _, c := range []struct {
		mutability string
		filters    []string
		tag        string
		want       bool
	}{
		{"MUTABLE", nil, "latest", false},
		{"", nil, "latest", false},
		{"IMMUTABLE", nil, "latest", true},
		{"IMMUTABLE_WITH_EXCLUSION", []string{"latest"}, "latest", false},
		{"IMMUTABLE_WITH_EXCLUSION", []string{"latest"}, "v1", true},
		{"IMMUTABLE_WITH_EXCLUSION", []string{"*-dev", "release-*"}, "1.2-dev", false},
		{"IMMUTABLE_WITH_EXCLUSION", []string{"*-dev", "release-*"}, "release-7", false},
		{"IMMUTABLE_WITH_EXCLUSION", []string{"*-dev"}, "1.2-dev2", true},
		{"MUTABLE_WITH_EXCLUSION", []string{"v*"}, "v1.2", true},
		{"MUTABLE_WITH_EXCLUSION", []string{"v*"}, "latest", false},
		{"MUTABLE_WITH_EXCLUSION", []string{"*.*.*"}, "1.2.3", true},
		{"MUTABLE_WITH_EXCLUSION", []string{"*.*.*"}, "1.2", false},
		{"MUTABLE_WITH_EXCLUSION", []string{"a*a"}, "a", false},
		{"MUTABLE_WITH_EXCLUSION", []string{"*"}, "anything", true},
	} {
		if got := TagImmutable(c.mutability, c.filters, c.tag); got != c.want {
			t.Errorf("%s %v %s: got %v", c.mutability, c.filters, c.tag, got)
		}
	}
}
