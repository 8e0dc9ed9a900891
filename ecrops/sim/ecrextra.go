package sim

import (
	"encoding/json"
	"time"
)

// ECR operations beyond pull through cache that clients and the tool meet: the registry's
// description, a repository's tag mutability, the referrers of an image, and the
// recording of pulls. Shapes and errors are the API model's.

// describeRegistry answers with the registry and its replication configuration, which the
// stand-in does not model (always no rules). [API] DescribeRegistry.
func describeRegistry(c *call) (any, *apiError) {
	if e := c.ecrAuthorize(c.registryResource()); e != nil {
		return nil, e
	}
	return map[string]any{"registryId": c.srv.st.accountID,
		"replicationConfiguration": map[string]any{"rules": []any{}}}, nil
}

// putImageTagMutability sets a repository's tag mutability. Exclusion filters are kept
// only with the *_WITH_EXCLUSION settings, which need them. [API] PutImageTagMutability.
func putImageTagMutability(c *call) (any, *apiError) {
	var in repoIn
	r, e := c.repoCall(&in)
	if e != nil {
		return nil, e
	}
	mutability := str(in.ImageTagMutability)
	if e := checkExclusions(mutability, in.ImageTagMutabilityExclusionFilters); e != nil { // mutability.go
		return nil, e
	}
	r.Mutability, r.Exclusions = mutability, in.ImageTagMutabilityExclusionFilters
	out := map[string]any{"registryId": c.srv.st.accountID, "repositoryName": r.Name, "imageTagMutability": r.Mutability}
	if len(r.Exclusions) > 0 {
		out["imageTagMutabilityExclusionFilters"] = r.Exclusions
	}
	return out, nil
}

// listImageReferrers lists the manifests of a repository whose subject is the given
// image (OCI 1.1 referrers). It needs ecr:BatchGetImage, as the API model says. The
// stand-in does not refresh referrers from an upstream.
func listImageReferrers(c *call) (any, *apiError) {
	var in struct {
		imagesIn
		SubjectID struct {
			ImageDigest string `json:"imageDigest"`
		} `json:"subjectId"`
		Filter *struct {
			ArtifactTypes  []string `json:"artifactTypes"`
			ArtifactStatus string   `json:"artifactStatus"`
		} `json:"filter"`
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	st := c.srv.st
	arn := st.repoARN(in.RepositoryName)
	if e := c.checkRegistry(in.RegistryID, arn); e != nil {
		return nil, e
	}
	if e := c.authorize("ecr:BatchGetImage", arn); e != nil {
		return nil, e
	}
	r, ok := st.repos[in.RepositoryName]
	if !ok {
		return nil, repositoryNotFound(st.accountID, in.RepositoryName)
	}
	now := c.srv.clock.Now()
	status := statusActive
	var types []string
	if in.Filter != nil {
		types = in.Filter.ArtifactTypes
		if in.Filter.ArtifactStatus != "" {
			status = in.Filter.ArtifactStatus
		}
	}
	var out []map[string]any
	for _, img := range r.sortedImages() {
		if img.Seed != "" { // generated images have no subject
			continue
		}
		var m struct {
			ArtifactType string `json:"artifactType"`
			Config       struct{ MediaType string }
			Subject      *struct{ Digest string }
			Annotations  map[string]string `json:"annotations"`
		}
		if json.Unmarshal(img.manifest(), &m) != nil || m.Subject == nil || m.Subject.Digest != in.SubjectID.ImageDigest {
			continue
		}
		artifactType := orDefault(m.ArtifactType, m.Config.MediaType)
		if (len(types) > 0 && !contains(types, artifactType)) || (status != "ANY" && img.status(now) != status) {
			continue
		}
		ref := map[string]any{"digest": img.Digest.String(), "mediaType": string(img.MediaType), "size": len(img.manifest()),
			"artifactType": artifactType, "artifactStatus": img.status(now)}
		if len(m.Annotations) > 0 {
			ref["annotations"] = m.Annotations
		}
		out = append(out, ref)
	}
	items, next, ok := page(c.op, out, in.NextToken, in.MaxResults, 50)
	if !ok {
		return nil, invalidNextToken()
	}
	return map[string]any{"referrers": emptyIfNil(items), "nextToken": next}, nil
}

// pullRecordedEvery is the granularity of lastRecordedPullTime. The API model says ECR
// "refreshes the last image pull timestamp at least once every 24 hours": a daily pull
// is recorded exactly, an hourly one is not. The stand-in records a pull when the time it
// holds is at least this old (never-pulled images are recorded at once): a model of that
// sentence, since AWS does not say when within the 24 hours it records.
const pullRecordedEvery = 24 * time.Hour

// recordPull notes a pull of img by p, unless p is a registered pull-time update
// exclusion (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-time-update-exclusions.html).
// Called with s.mu held.
func (s *Server) recordPull(p *principal, img *imageState) {
	now := s.clock.Now()
	if _, excluded := s.st.pullExclusions[p.ARN]; excluded {
		return
	}
	if img.LastPull.IsZero() || now.Sub(img.LastPull) >= pullRecordedEvery {
		img.LastPull = now
	}
}

// maxPullExclusions is the documented limit: 100 exclusions per account.
const maxPullExclusions = 100

type exclusionIn struct {
	PrincipalArn string  `json:"principalArn"`
	NextToken    *string `json:"nextToken"`
	MaxResults   *int    `json:"maxResults"`
}

func registerPullTimeUpdateExclusion(c *call) (any, *apiError) {
	var in exclusionIn
	if e := c.exclusionCall(&in); e != nil {
		return nil, e
	}
	st := c.srv.st
	if _, ok := st.pullExclusions[in.PrincipalArn]; ok {
		return nil, clientError("ExclusionAlreadyExistsException", "The principal %s is already excluded from pull-time updates.", in.PrincipalArn)
	}
	if len(st.pullExclusions) >= maxPullExclusions {
		return nil, clientError("LimitExceededException", "The operation did not succeed because it would cause a limit to be exceeded: at most %d pull-time update exclusions.", maxPullExclusions)
	}
	now := c.srv.clock.Now()
	st.pullExclusions[in.PrincipalArn] = now
	return map[string]any{"principalArn": in.PrincipalArn, "createdAt": ts(now)}, nil
}

func deregisterPullTimeUpdateExclusion(c *call) (any, *apiError) {
	var in exclusionIn
	if e := c.exclusionCall(&in); e != nil {
		return nil, e
	}
	if _, ok := c.srv.st.pullExclusions[in.PrincipalArn]; !ok {
		return nil, clientError("ExclusionNotFoundException", "The principal %s is not excluded from pull-time updates.", in.PrincipalArn)
	}
	delete(c.srv.st.pullExclusions, in.PrincipalArn)
	return map[string]any{"principalArn": in.PrincipalArn}, nil
}

func listPullTimeUpdateExclusions(c *call) (any, *apiError) {
	var in exclusionIn
	if e := c.exclusionCall(&in); e != nil {
		return nil, e
	}
	items, next, ok := page(c.op, sortedKeys(c.srv.st.pullExclusions), in.NextToken, in.MaxResults, 100)
	if !ok {
		return nil, invalidNextToken()
	}
	return map[string]any{"pullTimeUpdateExclusions": emptyIfNil(items), "nextToken": next}, nil
}

// exclusionCall decodes a pull-time update exclusion request and checks the caller.
// The exception wordings are the stand-in's; the names are the API model's.
func (c *call) exclusionCall(in *exclusionIn) *apiError {
	if e := c.decode(in); e != nil {
		return e
	}
	return c.ecrAuthorize(c.registryResource())
}
