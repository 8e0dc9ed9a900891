package diagnose

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// Kubernetes events in (`kubectl get events -A -o json`), failed image pulls out: each
// pull's message explained as explain --error explains a pasted line, against the same
// account, and grouped by the cause named.

// PullEvent is one failed image pull the events tell of.
type PullEvent struct {
	Object  string // namespace/name of the pod
	Reason  string // Failed, ErrImagePull, ImagePullBackOff, BackOff
	Message string
	Count   int
}

// kubeEvent holds the fields of core/v1 Event and events.k8s.io/v1 Event that matter.
type kubeEvent struct {
	Kind           string      `json:"kind"`
	Reason         string      `json:"reason"`
	Message        string      `json:"message"`
	Note           string      `json:"note"`
	Count          int         `json:"count"`
	InvolvedObject kubeObject  `json:"involvedObject"`
	Regarding      kubeObject  `json:"regarding"`
	Series         *kubeSeries `json:"series"`
	DeprecatedCnt  int         `json:"deprecatedCount"`
}

type kubeObject struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

type kubeSeries struct {
	Count int `json:"count"`
}

// pullReasons are the event reasons the kubelet gives a failed pull.
var pullReasons = map[string]bool{"Failed": true, "ErrImagePull": true, "ImagePullBackOff": true, "BackOff": true}

// ReadEvents reads `kubectl get events -o json` output (an EventList, or a List of
// events of either API). isEvents is false when the data is not events at all, so that
// a caller can read it as something else; err is for events it cannot read.
func ReadEvents(data []byte) (events []PullEvent, isEvents bool, err error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, false, nil
	}
	var list struct {
		Kind  string      `json:"kind"`
		Items []kubeEvent `json:"items"`
	}
	if err := json.Unmarshal(trimmed, &list); err != nil {
		return nil, false, nil
	}
	switch {
	case list.Kind == "EventList":
	case list.Kind == "List" && len(list.Items) == 0 && bytes.Contains(trimmed, []byte(`"items"`)):
		// What kubectl get events -o json prints on a quiet cluster: no failed pulls.
	case list.Kind == "List" && len(list.Items) > 0 && list.Items[0].Kind == "Event":
	case list.Kind == "Event":
		var one kubeEvent
		if err := json.Unmarshal(trimmed, &one); err != nil {
			return nil, true, fmt.Errorf("an Event that does not parse: %v", err)
		}
		list.Items = []kubeEvent{one}
	default:
		return nil, false, nil
	}
	for _, e := range list.Items {
		msg := e.Message
		if msg == "" {
			msg = e.Note
		}
		obj := e.InvolvedObject
		if obj.Name == "" {
			obj = e.Regarding
		}
		if !pullReasons[e.Reason] || !isPullMessage(msg) {
			continue
		}
		n := max(e.Count, e.DeprecatedCnt, 1)
		if e.Series != nil && e.Series.Count > n {
			n = e.Series.Count
		}
		events = append(events, PullEvent{Object: obj.Namespace + "/" + obj.Name, Reason: e.Reason, Message: msg, Count: n})
	}
	return events, true, nil
}

// isPullMessage keeps the events of image pulls: "Failed" is also the reason of failed
// mounts and probes.
func isPullMessage(msg string) bool {
	l := strings.ToLower(msg)
	return strings.Contains(l, "pull") && (strings.Contains(l, "image") || strings.Contains(l, "errimagepull"))
}

// PullGroup is the failed pulls one cause explains.
type PullGroup struct {
	Cause string      `json:"cause"` // a cause id of Causes; Unexplained when not settled, BackOffOnly for pulls seen only backing off
	Check string      `json:"check"` // the catalog check of the cause; "" when outside the account
	Title string      `json:"title"`
	Pulls []PullTrace `json:"pulls"`
}

// The groups that name no cause of Causes: the text and the JSON say the same words.
const (
	// Unexplained groups the failed pulls whose messages settle no cause (nor the account).
	Unexplained = "unexplained"
	// BackOffOnly groups the images whose events keep only the back-off.
	BackOffOnly = "back-off-only"
)

// PullTrace is one image's failed pulls, and what explains them.
type PullTrace struct {
	Image   string   `json:"image"`
	Objects []string `json:"objects"` // namespace/pod
	Events  int      `json:"events"`
	Message string   `json:"message"` // one of the kubelet's messages, as it said it
	Verdict string   `json:"verdict"`
	Fix     string   `json:"fix,omitempty"`
	Needs   []string `json:"needs,omitempty"`
}

// ExplainEvents explains every failed pull of the events against the account (nil: from
// the messages alone) and groups them by cause, the largest group first. Each image is
// listed once per cause, with its pods. The back-off events carry no cause of their own:
// they count towards the failed pull of the same image (or, when they name none, of the
// same pod); an image seen only backing off is listed apart, by name.
func ExplainEvents(ctx context.Context, acct *Account, events []PullEvent) []PullGroup {
	traces := map[traceKey]*PullTrace{}
	byCause := map[string]*PullGroup{}
	var order []string
	verdicts := map[string]ErrorVerdict{} // a message is explained once
	var backoffs []PullEvent
	for _, ev := range events {
		if backoffRE.MatchString(ev.Message) {
			// "Error: ErrImagePull", "Back-off pulling image …": no cause in them.
			backoffs = append(backoffs, ev)
			continue
		}
		v, seen := verdicts[ev.Message]
		if !seen {
			v, _ = ExplainError(ctx, acct, ev.Message)
			verdicts[ev.Message] = v
		}
		image := model.Printable(v.Reading.Reference)
		if image == "" && v.Reading.InvalidReference != "" {
			image = v.Reading.InvalidReference + " (not a reference)"
		}
		if image == "" {
			image = "(not named)"
		}
		cause := v.Cause.ID
		if cause == "" {
			cause = Unexplained
		}
		g := byCause[cause]
		if g == nil {
			g = &PullGroup{Cause: cause, Check: v.Cause.Check, Title: v.Cause.Title}
			if cause == Unexplained {
				g.Title = "Not settled from the message and the account"
			}
			byCause[cause] = g
			order = append(order, cause)
		}
		k := traceKey{cause, canonicalImage(image)}
		t := traces[k]
		if t == nil {
			t = &PullTrace{Image: image, Message: v.Reading.Line, Verdict: v.Verdict, Fix: v.Fix, Needs: v.Needs}
			if t.Verdict == "" {
				t.Verdict = "ptcdoctor does not recognise this message: " + v.Reading.Line
			}
			traces[k] = t
		}
		t.add(model.Printable(ev.Object), ev.Count)
	}
	keys := make([]traceKey, 0, len(traces))
	for k := range traces {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].cause+keys[i].image < keys[j].cause+keys[j].image })
	// A back-off joins the failure of the image it names, else of its pod.
	bare := map[string]*PullTrace{}
	var bareOrder []string
	for _, ev := range backoffs {
		obj := model.Printable(ev.Object)
		named, _ := findReference(ev.Message)
		image := canonicalImage(model.Printable(named))
		var into *PullTrace
		for _, k := range keys {
			if t := traces[k]; (image != "" && k.image == image) || (image == "" && contains(t.Objects, obj)) {
				into = t
				break
			}
		}
		if into == nil {
			name := model.Printable(named)
			if name == "" {
				name = "(not named)"
			}
			if bare[image] == nil {
				bare[image] = &PullTrace{Image: name,
					Verdict: "The events keep only the back-off for " + name + ": the failure that started it (the \"Failed to pull image\" message of reason ErrImagePull or Failed) has aged out of them.",
					Needs:   []string{"kubectl describe pod for one of these pods, or the kubelet's log on its node, for the first \"Failed to pull image\" message; then ptcdoctor explain --error '<that message>'"}}
				bareOrder = append(bareOrder, image)
			}
			into = bare[image]
		}
		into.add(obj, ev.Count)
	}
	out := []PullGroup{}
	for _, c := range order {
		g := byCause[c]
		for _, k := range keys {
			if k.cause == c {
				t := traces[k]
				sort.Strings(t.Objects)
				g.Pulls = append(g.Pulls, *t)
			}
		}
		out = append(out, *g)
	}
	sort.SliceStable(out, func(i, j int) bool { return groupEvents(out[i]) > groupEvents(out[j]) })
	if len(bareOrder) > 0 {
		g := PullGroup{Cause: BackOffOnly, Title: "Backing off, with no message that says why"}
		sort.Strings(bareOrder)
		for _, image := range bareOrder {
			sort.Strings(bare[image].Objects)
			g.Pulls = append(g.Pulls, *bare[image])
		}
		out = append(out, g)
	}
	return out
}

func (t *PullTrace) add(obj string, count int) {
	t.Events += count
	if !contains(t.Objects, obj) {
		t.Objects = append(t.Objects, obj)
	}
}

// canonicalImage is an image reference written the one way, so that the kubelet's
// "nginx:1.27" and containerd's "docker.io/library/nginx:1.27" are one image. "" stays "".
func canonicalImage(ref string) string {
	if ref == "" || ref == "(not named)" {
		return ""
	}
	if refHost(ref) == "docker.io" {
		rest := ref
		for _, p := range []string{"docker.io/", "index.docker.io/", "registry-1.docker.io/"} {
			rest = strings.TrimPrefix(rest, p)
		}
		name, _, _ := strings.Cut(rest, "@")
		name, _, _ = strings.Cut(name, ":")
		if !strings.Contains(name, "/") {
			rest = "library/" + rest
		}
		ref = "docker.io/" + rest
	}
	last := ref[strings.LastIndex(ref, "/")+1:]
	if !strings.ContainsAny(last, ":@") {
		ref += ":latest"
	}
	return ref
}

var backoffRE = regexp.MustCompile(`(?i)^\s*(Back-off pulling image|Error: (ErrImagePull|ImagePullBackOff))`)

func groupEvents(g PullGroup) int {
	n := 0
	for _, p := range g.Pulls {
		n += p.Events
	}
	return n
}

// traceKey is one image's pulls under one cause.
type traceKey struct{ cause, image string }
