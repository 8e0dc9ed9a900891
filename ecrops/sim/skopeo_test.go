package sim_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// skopeo is a registry client no one here wrote (containers/image): it pulls through the
// stand-in as it would through ECR.
func TestSkopeoPullsThroughTheStandIn(t *testing.T) {
	bin, err := exec.LookPath("skopeo")
	if err != nil {
		t.Skip("skopeo is not installed (apt-get install skopeo); skipping the independent registry client check")
	}
	s := startScenario(t, "demo")
	p := s.puller()
	creds := tokenCreds(t, s) // as `aws ecr get-login-password` gives them
	user, pass := creds[0], creds[1]
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
		return cmd.CombinedOutput()
	}
	src := "docker://" + p.host + "/ecr-public/docker/library/busybox:latest"
	dir := filepath.Join(t.TempDir(), "layout")
	if out, err := run("copy", "--all", "--src-tls-verify=false", "--src-creds", user+":"+pass, src, "oci:"+dir+":latest"); err != nil {
		t.Fatalf("skopeo copy: %v\n%s", err, out)
	}
	out, err := run("inspect", "--raw", "--tls-verify=false", "--creds", user+":"+pass, src)
	if err != nil {
		t.Fatalf("skopeo inspect: %v\n%s", err, out)
	}
	var idx struct{ Manifests []any }
	if json.Unmarshal(out, &idx) != nil || len(idx.Manifests) != 2 {
		t.Fatalf("inspect --raw: %s", out)
	}
	// A failure reaches skopeo as ECR words it.
	out, err = run("inspect", "--tls-verify=false", "--creds", user+":"+pass, "docker://"+p.host+"/docker-hub/library/nginx:9.9")
	if err == nil || !strings.Contains(string(out), "manifest unknown") {
		t.Fatalf("want manifest unknown, got %v: %s", err, out)
	}
}
