package diagnose_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// The lines a new user tried explain --error on (issue 12's trial), where they are not
// lines with a public source for the corpus: each read for what it says.

// The line narrows the causes; the chain confirms one of them. On the demo the node role
// cannot import and nginx's index lacks linux/arm64: neither is the cause of a 429 or of
// ECR's throttling, and a missing platform is named for the line that says so.
func TestExplainErrorNamesOnlyTheLinesCauses(t *testing.T) {
	_, acc := account(t, "demo")
	snap, err := acc.Scan(context.Background(), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	acct := &diagnose.Account{Snap: snap, Prober: acc, Opts: diagnose.Options{Principals: []string{snap.Identity.ARN, "arn:aws:iam::111122223333:role/eks-node"}}}
	const nginx = "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/nginx"
	for _, c := range []struct {
		line, cause string
		confirmed   bool
	}{
		{`Failed to pull image "` + nginx + `:1.27": rpc error: code = Unknown desc = failed to pull and unpack image "` + nginx + `:1.27": failed to copy: httpReadSeeker: failed open: unexpected status code https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/docker-hub/library/nginx/manifests/sha256:abc: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit.`,
			"pull-budget-spent", false},
		{`Error: initializing source docker://` + nginx + `:latest: reading manifest latest in ` + nginx + `: toomanyrequests: Rate exceeded`, "ecr-throttled", false},
		{`Error: GET https://111122223333.dkr.ecr.us-east-1.amazonaws.com/v2/docker-hub/library/nginx/manifests/latest: TOOMANYREQUESTS: Rate exceeded`, "ecr-throttled", false},
		{`Failed to pull image "` + nginx + `:1.27": rpc error: code = NotFound desc = failed to pull and unpack image "` + nginx + `:1.27": no match for platform in manifest: not found`, "missing-platform", true},
	} {
		v, ok := diagnose.ExplainError(context.Background(), acct, c.line)
		if !ok || v.Cause.ID != c.cause || v.Confirmed != c.confirmed {
			t.Errorf("%s:\n got %q (confirmed %v), want %s (confirmed %v): %s", c.line, v.Cause.ID, v.Confirmed, c.cause, c.confirmed, v.Verdict)
			continue
		}
		if strings.Contains(v.Verdict, "BatchImportUpstreamImage") || strings.Contains(v.Fix, "BatchImportUpstreamImage") {
			t.Errorf("%s: blames the import permission the line does not speak of: %s", c.cause, v.Verdict)
		}
		for _, f := range v.Fixes {
			if strings.Contains(f.Title, "pull-through actions") || strings.Contains(f.Title, "IAM policy") {
				t.Errorf("%s: a permissions fix offered for a line that did not fail at the permissions: %s", c.cause, f.Title)
			}
		}
		if c.cause == "pull-budget-spent" && len(v.AlsoFailing) == 0 {
			t.Errorf("the chain's other failing links are not shown as also failing")
		}
	}
}

// What each line names, read from the line alone.
func TestExplainErrorReadsWhatEachLineNames(t *testing.T) {
	const ecr = "111122223333.dkr.ecr.us-east-1.amazonaws.com"
	for _, c := range []struct {
		line, ref, cause string
		says             []string
		not              []string
	}{
		// crane / go-containerregistry: the API URL's name and tag, not its path.
		{line: `Error: GET https://` + ecr + `/v2/docker-hub/library/nginx/manifests/latest: TOOMANYREQUESTS: Rate exceeded`,
			ref: ecr + "/docker-hub/library/nginx:latest", cause: "ecr-throttled"},
		{line: `Error: GET https://` + ecr + `/v2/docker-hub/library/redis/manifests/7.4: UNAUTHORIZED: authentication required; [map[Action:pull Class: Name:docker-hub/library/redis Type:repository]]`,
			ref: ecr + "/docker-hub/library/redis:7.4", cause: "ecr-login"},
		{line: `Error: fetching "` + ecr + `/ecr-public/nginx/nginx:latest": GET https://` + ecr + `/v2/ecr-public/nginx/nginx/manifests/latest: MANIFEST_UNKNOWN: Requested image not found`,
			ref: ecr + "/ecr-public/nginx/nginx:latest"},
		{line: `GET https://` + ecr + `/v2/docker-hub/library/nginx/manifests/sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef: MANIFEST_UNKNOWN`,
			ref: ecr + "/docker-hub/library/nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		{line: `Error response from daemon: Get "https://` + ecr + `/v2/": no basic auth credentials`, ref: "", cause: "ecr-login", says: []string{ecr}},
		// The aws CLI talks to ECR: a repository name in it is a path in the account.
		{line: `An error occurred (RepositoryNotFoundException) when calling the DescribeImages operation: The repository with name 'docker-hub/library/nginx' does not exist in the registry with id '111122223333'`,
			ref: "docker-hub/library/nginx"},
		{line: `An error occurred (SecretNotFoundException) when calling the CreatePullThroughCacheRule operation: The specified secret could not be found`,
			cause: "rule-secret-missing", says: []string{"secret"}},
		{line: `An error occurred (UpstreamAccessDeniedException) when calling the BatchGetImage operation: The upstream registry denied access for the repository docker-hub/library/nginx`,
			ref: "docker-hub/library/nginx"},
		// Docker Hub's budget text: the help page's host is not the pull's.
		{line: `Error response from daemon: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit`,
			cause: "bypassed-cache", says: []string{"pull rate limit"}, not: []string{"www.docker.com"}},
		// A mirror without override_path: /v2/ twice.
		{line: `Failed to pull image "nginx:1.27": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:1.27": failed to resolve reference "docker.io/library/nginx:1.27": unexpected status from HEAD request to https://` + ecr + `/v2/docker-hub/v2/library/nginx/manifests/1.27?ns=docker.io: 404 Not Found`,
			ref: "docker.io/library/nginx:1.27", cause: "mirror-override-path", says: []string{"override_path = true", "ptcdoctor nodes"}},
		// A timeout is the client not reaching the host, not the upstream's answer.
		{line: `Error response from daemon: Get "https://registry-1.docker.io/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)`,
			cause: "bypassed-cache", says: []string{"could not reach registry-1.docker.io", "egress"}, not: []string{"upstream's answer"}},
		// A back-off alone: the first error holds the cause.
		{line: `Back-off pulling image "` + ecr + `/docker-hub/library/redis:7.4"`, ref: ecr + "/docker-hub/library/redis:7.4", cause: "back-off", says: []string{"ErrImagePull"}},
		{line: `Warning  Failed  3m  kubelet  Error: ImagePullBackOff`, cause: "back-off", says: []string{"first error"}},
		// A credential a client printed never reaches the screen.
		{line: `failed to fetch oauth token: unexpected status from GET request to https://auth.docker.io/token: 401 Unauthorized, Authorization: Basic QVdTOmV5SnpaV055WlhRaU9pSmhZbU1pZlE9PQ==`,
			not: []string{"QVdTOmV5"}},
	} {
		v, ok := diagnose.ExplainError(context.Background(), nil, c.line)
		if !ok {
			t.Errorf("not recognised: %s", c.line)
			continue
		}
		if c.ref != "" && v.Reading.Reference != c.ref {
			t.Errorf("%s:\n reference %q, want %q", c.line, v.Reading.Reference, c.ref)
		}
		if c.cause != "" && v.Cause.ID != c.cause {
			t.Errorf("%s:\n cause %q (%v), want %s", c.line, v.Cause.ID, v.Reading.Candidates, c.cause)
		}
		all := v.Verdict + " " + v.Fix + " " + strings.Join(v.Needs, " ")
		if c.cause == "" {
			all += " " + v.Reading.Line // what is printed of the line itself
		}
		for _, s := range c.says {
			if !strings.Contains(v.Verdict+" "+v.Fix, s) {
				t.Errorf("%s:\n does not say %q: %s / %s", c.line, s, v.Verdict, v.Fix)
			}
		}
		for _, s := range c.not {
			if strings.Contains(all, s) {
				t.Errorf("%s:\n says %q: %s", c.line, s, all)
			}
		}
	}
	// The aws CLI's repository is never an upstream reference gone direct.
	v, _ := diagnose.ExplainError(context.Background(), nil, `An error occurred (RepositoryNotFoundException) when calling the DescribeImages operation: The repository with name 'docker-hub/library/nginx' does not exist in the registry with id '111122223333'`)
	for _, c := range v.Reading.Candidates {
		if c == "bypassed-cache" || c == "ecr-login" {
			t.Errorf("an aws CLI line read as a docker client's pull (%s): %v", c, v.Reading.Candidates)
		}
	}
	up, _ := diagnose.ReadError(`An error occurred (UpstreamAccessDeniedException) when calling the BatchGetImage operation: The upstream registry denied access for the repository docker-hub/library/nginx`)
	if up.Shape != "upstream-denied" {
		t.Errorf("UpstreamAccessDeniedException read as %q", up.Shape)
	}
}

// explain's JSON example in README.md decodes into the document's type (unknown fields
// refused), and real documents of both kinds, made on the demo, have every field it shows
// and decode back the same way.
func TestExplainJSONSchema(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(raw), "## explain's JSON")
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindStringSubmatch(rest)
	if m == nil {
		t.Fatal("no explain JSON example in README.md")
	}
	strict := func(what string, doc []byte) diagnose.ExplainReport {
		var r diagnose.ExplainReport
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("%s does not match the type: %v", what, err)
		}
		return r
	}
	example := strict("the README's example", []byte(m[1]))
	if example.SchemaVersion != diagnose.ExplainSchemaVersion || example.Error == nil || example.Error.Cause == nil || len(example.Fixes) == 0 || len(example.Chain) == 0 {
		t.Fatalf("example: %+v", example)
	}

	_, acc := account(t, "demo")
	snap, err := acc.Scan(context.Background(), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := diagnose.Options{Principals: []string{snap.Identity.ARN, "arn:aws:iam::111122223333:role/eks-node"}}
	ref, err := model.ParseRef("docker-hub/library/redis:7.4", snap.AccountID, snap.Region, snap.Rules)
	if err != nil {
		t.Fatal(err)
	}
	ex := diagnose.Explain(context.Background(), snap, acc, ref, opts)
	v, _ := diagnose.ExplainError(context.Background(), &diagnose.Account{Snap: snap, Prober: acc, Opts: opts},
		`failed to resolve reference "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/redis:7.4": not found`)
	for what, doc := range map[string]diagnose.ExplainReport{"explain REF": diagnose.NewExplainReport(snap, ex), "explain --error": diagnose.NewErrorReport(snap, v, true, "")} {
		out, _ := json.Marshal(doc)
		fields := []string{`"schemaVersion":1`, `"kind":"`, `"account":"111122223333"`, `"complete":true`, `"reference":{"input":`, `"cacheUri":"`, `"chain":[{"link":"registry and region"`,
			`"status":"failed"`, `"evidence":[{"call":`, `"verdict":"`, `"fixes":[{"title":`, `"finding":"`, `"number":1`, `"findings":[{"id":"`}
		if what == "explain --error" {
			fields = append(fields, `"error":{"line":`, `"recognised":true`, `"candidates":["`, `"cause":{"id":"missing-import-permission"`, `"confirmed":true`, `"chainVerdict":"The pull fails`, `"alsoFailing":[]`)
		}
		for _, f := range fields {
			if !bytes.Contains(out, []byte(f)) {
				t.Errorf("%s lacks %s", what, f)
			}
		}
		strict(what, out)
	}
}

// An event whose image is not a reference (trial 16: a shell command in the image field)
// is unexplained, listed under the image as written, never under the repository its
// first characters name with a confident cause.
func TestEventsWithABrokenImageAreUnexplained(t *testing.T) {
	const img = "111122223333.dkr.ecr.us-east-1.amazonaws.com/quay/`rm -rf`/x:1"
	groups := diagnose.ExplainEvents(context.Background(), nil, []diagnose.PullEvent{{
		Object: "default/app", Reason: "Failed", Count: 2,
		Message: `Failed to pull image "` + img + `": rpc error: code = NotFound desc = failed to pull and unpack image "` + img + `": ` + img + `: not found`,
	}})
	if len(groups) != 1 || groups[0].Cause != diagnose.Unexplained {
		t.Fatalf("want one unexplained group, got %+v", groups)
	}
	p := groups[0].Pulls[0]
	if strings.HasSuffix(p.Image, "/quay/") || !strings.Contains(p.Verdict, "is not an image reference") {
		t.Errorf("the broken image is read as a name: image %q, verdict %q", p.Image, p.Verdict)
	}
}

// ECR's layer storage (the S3 bucket it redirects a layer to, or a CDN) is not another
// registry: a failure there happened on a pull through ECR, not one that went around it.
func TestECRLayerStorageIsNotAnotherRegistry(t *testing.T) {
	for _, line := range []string{
		`failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/abcd/0123": dial tcp 52.216.0.1:443: i/o timeout`,
		`failed to copy: httpReadSeeker: failed open: unexpected status code https://prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com/ef01/4567: 403 Forbidden`,
	} {
		v, _ := diagnose.ExplainError(context.Background(), nil, line)
		for _, c := range v.Reading.Candidates {
			if c == "bypassed-cache" {
				t.Errorf("a layer from ECR's storage read as a pull around the cache: %v\n%s", v.Reading.Candidates, line)
			}
		}
	}
}
