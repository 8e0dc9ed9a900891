package sim

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Tag mutability with exclusions, as ECR applies it
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html):
// IMMUTABLE_WITH_EXCLUSION makes every tag immutable except those an exclusion filter
// matches; MUTABLE_WITH_EXCLUSION makes every tag mutable except those it matches. A
// filter is a WILDCARD pattern ("*" for any run of characters), 1 to 5 of them, each of
// ^[0-9a-zA-Z._*-]{1,128}$ (ImageTagMutabilityExclusionFilter in the API model).

const maxExclusionFilters = 5

var exclusionFilterRE = regexp.MustCompile(`^[0-9a-zA-Z._*-]{1,128}$`)

// tagImmutable reports whether a tag of a repository with this setting may not move.
func tagImmutable(mutability string, filters []exclusionFilter, tag string) bool {
	excluded := false
	for _, f := range filters {
		// '*' is the only special character a filter may hold; path.Match's other
		// specials ([, ?, \) cannot appear in one, so it matches as the wildcard does.
		if ok, _ := path.Match(f.Filter, tag); ok {
			excluded = true
			break
		}
	}
	switch mutability {
	case "IMMUTABLE":
		return true
	case "IMMUTABLE_WITH_EXCLUSION":
		return !excluded
	case "MUTABLE_WITH_EXCLUSION":
		return excluded
	}
	return false
}

// checkExclusions refuses a setting and filters that do not go together, with the
// message ECR gives (as reported in aws/aws-cdk#35246 for a missing list).
func checkExclusions(mutability string, filters []exclusionFilter) *apiError {
	withExclusion := strings.HasSuffix(mutability, "_WITH_EXCLUSION")
	switch {
	case withExclusion && len(filters) == 0:
		return invalidParameter("Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as %s'", mutability)
	case !withExclusion && len(filters) > 0:
		return invalidParameter("Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'ImageTagMutabilityExclusionFilters can only be set when imageTagMutability is set as IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION'")
	case len(filters) > maxExclusionFilters:
		return invalidParameter("Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'Member must have length less than or equal to %d'", maxExclusionFilters)
	}
	for _, f := range filters {
		if f.FilterType != "WILDCARD" {
			return invalidParameter("Invalid parameter at 'filterType' failed to satisfy constraint: 'Member must satisfy enum value set: [WILDCARD]'")
		}
		if !exclusionFilterRE.MatchString(f.Filter) {
			return invalidParameter("Invalid parameter at 'filter' failed to satisfy constraint: 'Member must satisfy regular expression pattern: ^[0-9a-zA-Z._*-]{1,128}$'")
		}
	}
	return nil
}

// exclusionFilters turns a scenario's list of wildcard patterns into filters.
func exclusionFilters(patterns []string) []exclusionFilter {
	var out []exclusionFilter
	for _, p := range patterns {
		out = append(out, exclusionFilter{FilterType: "WILDCARD", Filter: p})
	}
	return out
}

// checkScenarioExclusions is checkExclusions for a scenario's entry, worded for its author.
func checkScenarioExclusions(where, mutability string, patterns []string) []error {
	if e := checkExclusions(orDefault(mutability, "MUTABLE"), exclusionFilters(patterns)); e != nil {
		return []error{fmt.Errorf("%s.imageTagMutabilityExclusionFilters: %s", where, e.Message)}
	}
	return nil
}
