package diagnose_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
)

// The failed pulls of a cluster's events (testdata/events), explained against the demo
// account and grouped by cause.
func TestEventsAreExplainedAndGroupedByCause(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "events", "pull-failures.json"))
	if err != nil {
		t.Fatal(err)
	}
	events, isEvents, err := diagnose.ReadEvents(raw)
	if err != nil || !isEvents {
		t.Fatalf("events: %v %v", isEvents, err)
	}
	for _, ev := range events {
		if strings.Contains(ev.Message, "MountVolume") || strings.Contains(ev.Message, "probe") || strings.Contains(ev.Message, "containerd task") {
			t.Errorf("not a pull failure, kept: %s", ev.Message)
		}
	}
	_, acc := account(t, "demo")
	snap, err := acc.Scan(context.Background(), ecrops.Scope{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	acct := &diagnose.Account{Snap: snap, Prober: acc, Opts: diagnose.Options{Principals: []string{snap.Identity.ARN, "arn:aws:iam::111122223333:role/eks-node"}}}
	groups := diagnose.ExplainEvents(context.Background(), acct, events)
	got := map[string]diagnose.PullGroup{}
	for _, g := range groups {
		got[g.Cause] = g
	}
	want := map[string]string{
		"library-prefix":            "docker-hub/nginx:latest",
		"missing-import-permission": "docker-hub/library/redis:7.4",
		"upstream-credentials":      "github/ptcdemo/app:v2",
		"bypassed-cache":            "busybox:1.36",
	}
	for cause, image := range want {
		g, ok := got[cause]
		if !ok || len(g.Pulls) != 1 || !strings.HasSuffix(g.Pulls[0].Image, image) {
			t.Errorf("%s: %+v", cause, g)
		}
	}
	// Two pods failed on the same image: one pull, two objects, every event counted.
	nginx := got["library-prefix"].Pulls[0]
	if len(nginx.Objects) != 2 || nginx.Events != 4+4+12+12+3 || !strings.Contains(nginx.Fix, "docker-hub/library/nginx:latest") {
		t.Errorf("nginx: %+v", nginx)
	}
	// The direct pull's fix names the cache URI that the docker-hub rule maps it to.
	if fix := got["bypassed-cache"].Pulls[0].Fix; !strings.Contains(fix, "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/busybox:1.36") {
		t.Errorf("bypassed: %s", fix)
	}
	// An image seen only backing off is listed apart, by the name its back-off gives,
	// with what would say why.
	bare, ok := got[diagnose.BackOffOnly]
	if !ok || len(bare.Pulls) != 1 || bare.Pulls[0].Objects[0] != "batch/cleanup-28911500-4hj8d" || len(bare.Pulls[0].Needs) == 0 ||
		bare.Pulls[0].Image != "111122223333.dkr.ecr.us-east-1.amazonaws.com/quay/prometheus/node-exporter:v1.8.1" {
		t.Errorf("back-off only: %+v", bare)
	}
	if _, ok := got[""]; ok {
		t.Errorf("a group without a cause word: %+v", got[""])
	}
	if groups[0].Cause != "library-prefix" {
		t.Errorf("the largest group first: %s", groups[0].Cause)
	}

	// What kubectl prints on a quiet cluster: events, none of them a failed pull.
	quiet, isEvents, err := diagnose.ReadEvents([]byte(`{"apiVersion":"v1","items":[],"kind":"List","metadata":{"resourceVersion":""}}`))
	if !isEvents || err != nil || len(quiet) != 0 {
		t.Errorf("an empty events list: %v %v %v", quiet, isEvents, err)
	}

	// Not events: a manifest or a list of references is left to --images-file.
	for _, notEvents := range []string{`{"kind":"PodList","items":[]}`, "nginx:1.27\n", `[1,2]`, `{`} {
		if _, isEvents, _ := diagnose.ReadEvents([]byte(notEvents)); isEvents {
			t.Errorf("%q read as events", notEvents)
		}
	}
}

func FuzzReadEvents(f *testing.F) {
	for _, s := range []string{`{"kind":"EventList","items":[{"reason":"Failed","message":"Failed to pull image \"a\x1b[31m\": not found","involvedObject":{"namespace":"n","name":"p"}}]}`,
		`{"kind":"List","items":[{"kind":"Event","reason":"BackOff","note":"Back-off pulling image \"x\"","regarding":{"name":"p"},"series":{"count":-5}}]}`,
		`{"kind":"Event","reason":"ErrImagePull","message":"pull access denied"}`, `{"kind":"EventList","items":null}`, "{", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		events, _, _ := diagnose.ReadEvents([]byte(s))
		for _, g := range diagnose.ExplainEvents(context.Background(), nil, events) {
			for _, p := range g.Pulls {
				for _, out := range append([]string{p.Image, p.Message, p.Verdict, p.Fix}, p.Objects...) {
					if strings.ContainsRune(out, 0x1b) {
						t.Fatalf("an escape reached the answer: %q", out)
					}
				}
				if p.Events < 0 {
					t.Fatalf("negative events: %+v", p)
				}
			}
		}
	})
}

// A back-off that names its image joins that image's failure, from whichever pod: each
// image once, with all its pods; the kubelet's short name and containerd's full one are
// the same image.
func TestBackOffsJoinTheFailureOfTheirImage(t *testing.T) {
	const redis = "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub/library/redis:7.4"
	events := []diagnose.PullEvent{
		{Object: "a/p1", Reason: "ErrImagePull", Count: 3, Message: `rpc error: code = NotFound desc = failed to pull and unpack image "` + redis + `": failed to resolve reference "` + redis + `": not found`},
		{Object: "a/p2", Reason: "ImagePullBackOff", Count: 4, Message: `Back-off pulling image "` + redis + `"`},
		{Object: "b/p3", Reason: "Failed", Count: 2, Message: `Failed to pull image "busybox:1.36": rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/busybox:1.36": failed to resolve reference "docker.io/library/busybox:1.36": failed to do request: Head "https://registry-1.docker.io/v2/library/busybox/manifests/1.36": dial tcp 54.236.113.205:443: i/o timeout`},
		{Object: "b/p4", Reason: "BackOff", Count: 5, Message: `Back-off pulling image "docker.io/library/busybox:1.36"`},
		{Object: "b/p3", Reason: "Failed", Count: 6, Message: `Error: ImagePullBackOff`},
	}
	groups := diagnose.ExplainEvents(context.Background(), nil, events)
	images := map[string]diagnose.PullTrace{}
	for _, g := range groups {
		if g.Cause == "" || g.Cause == diagnose.BackOffOnly {
			t.Errorf("group %q: %+v", g.Cause, g)
		}
		for _, p := range g.Pulls {
			if _, dup := images[p.Image]; dup {
				t.Errorf("%s listed twice", p.Image)
			}
			images[p.Image] = p
		}
	}
	if p := images[redis]; p.Events != 7 || strings.Join(p.Objects, ",") != "a/p1,a/p2" {
		t.Errorf("redis: %+v", p)
	}
	if p := images["docker.io/library/busybox:1.36"]; p.Events != 13 || strings.Join(p.Objects, ",") != "b/p3,b/p4" {
		t.Errorf("busybox: %+v", p)
	}
}
