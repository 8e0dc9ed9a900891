package sim

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The answers a scan reads most are written from structs (ecr.go). These are the maps
// they were written from before, which encoding/json wrote with sorted keys: the structs
// must put the same bytes on the wire.

func mapRepoOut(st *state, r *repoState) map[string]any {
	out := map[string]any{
		"repositoryArn": r.ARN, "registryId": st.accountID, "repositoryName": r.Name,
		"repositoryUri": st.repoURI(r.Name), "createdAt": ts(r.CreatedAt),
		"imageTagMutability": r.Mutability, "imageScanningConfiguration": map[string]bool{"scanOnPush": r.ScanOnPush},
		"encryptionConfiguration": r.Encryption,
	}
	if len(r.Exclusions) > 0 {
		out["imageTagMutabilityExclusionFilters"] = r.Exclusions
	}
	return out
}

func mapImageDetail(st *state, r *repoState, img *imageState, tags []string, now time.Time) map[string]any {
	out := map[string]any{
		"registryId": st.accountID, "repositoryName": r.Name, "imageDigest": img.Digest.String(),
		"imageSizeInBytes": img.Size, "imagePushedAt": ts(img.PushedAt),
		"imageManifestMediaType": string(img.MediaType), "imageStatus": img.status(now),
	}
	if !img.ArchivedAt.IsZero() {
		out["lastArchivedAt"] = ts(img.ArchivedAt)
	}
	if !img.ActivatedAt.IsZero() {
		out["lastActivatedAt"] = ts(img.ActivatedAt)
	}
	if len(tags) > 0 {
		out["imageTags"] = tags
	}
	if !img.LastPull.IsZero() {
		out["lastRecordedPullTime"] = ts(img.LastPull)
	}
	if len(img.Children) == 0 {
		out["artifactMediaType"] = "application/vnd.docker.container.image.v1+json"
	}
	return out
}

// sameJSON fails unless the struct answer encodes as the map answer did (after dropNils,
// as call.succeed applies to maps).
func sameJSON(t *testing.T, what string, old map[string]any, answer any) {
	t.Helper()
	dropNils(old)
	want, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(answer)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s:\n got %s\nwant %s", what, got, want)
	}
}

func TestStructAnswersAreTheMapsTheyReplaced(t *testing.T) {
	sc, err := LoadScenario("demo")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	st, err := newState(sc.withGenerated(), now)
	if err != nil {
		t.Fatal(err)
	}
	// Every optional member present somewhere: an archived, reactivated, pulled index with
	// HTML-special characters in its tags, a repository with exclusions, a KMS key and a
	// lifecycle evaluated.
	var some *repoState
	for _, r := range st.repos {
		if len(r.images) > 0 {
			some = r
			break
		}
	}
	if some == nil {
		t.Fatal("the demo has no images")
	}
	for _, img := range some.images {
		img.ArchivedAt, img.ActivatedAt, img.LastPull = now.Add(-time.Hour), now.Add(-time.Minute), now.Add(-time.Second)
		img.Children = []v1.Hash{img.Digest}
		break
	}
	some.Exclusions = []exclusionFilter{{FilterType: "WILDCARD", Filter: "latest<&>"}}
	some.Encryption = encryption{EncryptionType: "KMS", KmsKey: "arn:aws:kms:us-east-1:111122223333:key/x"}
	some.LifecycleEvaluated = now
	some.Tags = []tag{{Key: "team", Value: "a&b"}}

	for _, r := range st.repos {
		sameJSON(t, "repository "+r.Name, mapRepoOut(st, r), st.repoOut(r))
		var oldDetails []map[string]any
		var details []imageDetail
		for _, img := range r.sortedImages() {
			tags := r.tagsOf(img.Digest)
			if img == r.sortedImages()[0] {
				tags = append(tags, "<odd&tag>")
			}
			oldDetails = append(oldDetails, mapImageDetail(st, r, img, tags, now))
			details = append(details, st.imageDetail(r, img, tags, now))
		}
		if oldDetails == nil {
			oldDetails, details = []map[string]any{}, []imageDetail{}
		}
		next := ptr("token")
		sameJSON(t, "images of "+r.Name, map[string]any{"imageDetails": oldDetails, "nextToken": next},
			imageDetailsOut{ImageDetails: details, NextToken: next})
		sameJSON(t, "last page of images of "+r.Name, map[string]any{"imageDetails": oldDetails, "nextToken": (*string)(nil)},
			imageDetailsOut{ImageDetails: details})

		lifecycle := map[string]any{"registryId": st.accountID, "repositoryName": r.Name, "lifecyclePolicyText": r.Lifecycle}
		if !r.LifecycleEvaluated.IsZero() {
			lifecycle["lastEvaluatedAt"] = ts(r.LifecycleEvaluated)
		}
		sameJSON(t, "lifecycle policy of "+r.Name, lifecycle, lifecyclePolicyOut{LastEvaluatedAt: ts(r.LifecycleEvaluated),
			LifecyclePolicyText: r.Lifecycle, RegistryID: st.accountID, RepositoryName: r.Name})
		sameJSON(t, "repository policy of "+r.Name, map[string]any{"registryId": st.accountID, "repositoryName": r.Name, "policyText": r.Policy},
			repositoryPolicyOut{PolicyText: r.Policy, RegistryID: st.accountID, RepositoryName: r.Name})
		sameJSON(t, "tags of "+r.Name, map[string]any{"tags": emptyIfNil(r.Tags)}, tagsOut{Tags: emptyIfNil(r.Tags)})
	}
	names := sortedKeys(st.repos)
	var old []map[string]any
	var repos []repoOut
	for _, n := range names {
		old = append(old, mapRepoOut(st, st.repos[n]))
		repos = append(repos, st.repoOut(st.repos[n]))
	}
	sameJSON(t, "repositories", map[string]any{"repositories": old, "nextToken": ptr("t")}, repositoriesOut{NextToken: ptr("t"), Repositories: repos})
	sameJSON(t, "an error", map[string]any{"__type": "RepositoryNotFoundException", "message": "a <b> & c"},
		errorOut{Type: "RepositoryNotFoundException", Message: "a <b> & c"})
}

func TestRegistryErrorsAreTheMapsTheyReplaced(t *testing.T) {
	old, err := json.Marshal(map[string]any{"errors": []map[string]string{{"code": "DENIED", "message": "a <b> & 'c'"}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(registryErrors{Errors: []registryError{{Code: "DENIED", Message: "a <b> & 'c'"}}})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(old) {
		t.Fatalf("got %s, want %s", got, old)
	}
}

func TestReadBodyReadsWhatReadAllRead(t *testing.T) {
	for _, tc := range []struct {
		body     string
		declared int64
	}{
		{"", 0}, {"", -1}, {`{"a":1}`, 7}, {`{"a":1}`, -1}, {`{"a":1}`, 3}, {`{"a":1}`, 20},
		{strings.Repeat("x", maxRequestBody+10), maxRequestBody}, {strings.Repeat("x", maxRequestBody+10), -1},
	} {
		r := &http.Request{Body: io.NopCloser(strings.NewReader(tc.body)), ContentLength: tc.declared}
		got, err := readBody(r)
		want, _ := io.ReadAll(io.LimitReader(strings.NewReader(tc.body), maxRequestBody+1))
		if err != nil || string(got) != string(want) {
			t.Fatalf("body of %d bytes declared %d: read %d bytes (%v), want %d", len(tc.body), tc.declared, len(got), err, len(want))
		}
	}
}

// A generated image's manifest is written from structs; the digests of the images a
// scenario generates must stay those the maps gave.
func TestGeneratedManifestsAreTheBytesOfTheMaps(t *testing.T) {
	pool, err := layerPool()
	if err != nil {
		t.Fatal(err)
	}
	for _, seed := range []string{"gen-01/team/app-0001:v1#0", "a <b> & c", ""} {
		got, err := generatedManifest(seed)
		if err != nil {
			t.Fatal(err)
		}
		h := fnv.New32a()
		h.Write([]byte(seed))
		layer := pool[h.Sum32()%uint32(len(pool))]
		cfg, _ := json.Marshal(map[string]any{
			"architecture": "amd64", "os": "linux",
			"config": map[string]any{"Labels": map[string]string{"org.opencontainers.image.source": seed}},
			"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layer.diffID.String()}},
		})
		cfgDigest, _, _ := v1.SHA256(bytes.NewReader(cfg))
		want, _ := json.Marshal(map[string]any{
			"schemaVersion": 2, "mediaType": string(types.DockerManifestSchema2),
			"config": map[string]any{"mediaType": string(types.DockerConfigJSON), "size": len(cfg), "digest": cfgDigest.String()},
			"layers": []map[string]any{{"mediaType": string(types.DockerLayer), "size": layer.size, "digest": layer.digest.String()}},
		})
		if string(got.Raw) != string(want) {
			t.Fatalf("seed %q:\n got %s\nwant %s", seed, got.Raw, want)
		}
	}
}
