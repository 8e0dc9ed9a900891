package nodes

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MatchImage reports whether a kubelet matchImages pattern matches an image, as the
// kubelet decides it (kubelet-config.v1, CredentialProvider.matchImages; the code is
// pkg/credentialprovider's URLsMatch): the host names have the same number of labels and
// each label matches its glob (one label each: *.io does not match k8s.gcr.io), the ports
// are equal, and the pattern's path is a prefix of the image's. A malformed pattern
// matches nothing, as in the kubelet.
func MatchImage(pattern, image string) bool {
	g, err := url.Parse("https://" + pattern)
	if err != nil {
		return false
	}
	t, err := url.Parse("https://" + image)
	if err != nil {
		return false
	}
	gParts, gPort := splitHost(g.Host)
	tParts, tPort := splitHost(t.Host)
	if gPort != tPort || len(gParts) != len(tParts) || !strings.HasPrefix(t.Path, g.Path) {
		return false
	}
	for i, p := range gParts {
		ok, err := path.Match(p, tParts[i])
		if err != nil || !ok {
			return false
		}
	}
	return true
}

func splitHost(hostport string) ([]string, string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	return strings.Split(host, "."), port
}

// Provider is one kubelet image credential provider, as configured.
type Provider struct {
	Source      string
	Name        string
	MatchImages []string
	Region      string // the AWS_REGION its environment sets; "" when none
}

// ecrProvider says whether a provider is the ECR one: the kubelet runs the binary named
// like the provider, and the ECR plugin ships as ecr-credential-provider.
func (p Provider) ecr() bool {
	return strings.Contains(strings.ToLower(p.Name), "ecr-credential-provider")
}

// Matches reports the first pattern matching an image, and whether one does.
func (p Provider) Matches(image string) (string, bool) {
	for _, m := range p.MatchImages {
		if MatchImage(m, image) {
			return m, true
		}
	}
	return "", false
}

type credentialProviderConfig struct {
	APIVersion string `json:"apiVersion" yaml:"apiVersion"`
	Kind       string `json:"kind" yaml:"kind"`
	Providers  []struct {
		Name                 string   `json:"name" yaml:"name"`
		MatchImages          []string `json:"matchImages" yaml:"matchImages"`
		DefaultCacheDuration *string  `json:"defaultCacheDuration" yaml:"defaultCacheDuration"`
		APIVersion           string   `json:"apiVersion" yaml:"apiVersion"`
		Env                  []struct {
			Name  string `json:"name" yaml:"name"`
			Value string `json:"value" yaml:"value"`
		} `json:"env" yaml:"env"`
	} `json:"providers" yaml:"providers"`
}

var providerAPIVersions = []string{"credentialprovider.kubelet.k8s.io/v1", "credentialprovider.kubelet.k8s.io/v1beta1", "credentialprovider.kubelet.k8s.io/v1alpha1"}

// parseCredentialProviderConfig reads a kubelet CredentialProviderConfig (YAML or JSON).
// Problems the kubelet refuses to start with come back as problems, not errors: the file
// was read, and what is wrong in it is a finding.
func parseCredentialProviderConfig(src string, data []byte) (providers []Provider, problems []string, err error) {
	var c credentialProviderConfig
	if jsonish(data) {
		err = json.Unmarshal(data, &c)
	} else {
		err = yaml.Unmarshal(data, &c)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("not a kubelet CredentialProviderConfig: %s", decodeError(data, err))
	}
	if c.Kind != "CredentialProviderConfig" {
		return nil, nil, errors.New("not a kubelet CredentialProviderConfig (kind is not CredentialProviderConfig)")
	}
	if !strings.HasPrefix(c.APIVersion, "kubelet.config.k8s.io/") {
		problems = append(problems, fmt.Sprintf("apiVersion %q is not kubelet.config.k8s.io/v1", c.APIVersion))
	}
	if len(c.Providers) == 0 {
		problems = append(problems, "providers is empty")
	}
	for _, p := range c.Providers {
		if p.Name == "" {
			problems = append(problems, "a provider has no name")
		}
		if len(p.MatchImages) == 0 {
			problems = append(problems, fmt.Sprintf("provider %q: matchImages is required", p.Name))
		}
		for _, m := range p.MatchImages {
			if _, err := url.Parse("https://" + m); err != nil || strings.Contains(m, "://") {
				problems = append(problems, fmt.Sprintf("provider %q: matchImages entry %q is not a host[:port][/path] pattern", p.Name, m))
			}
		}
		if p.DefaultCacheDuration == nil {
			problems = append(problems, fmt.Sprintf("provider %q: defaultCacheDuration is required", p.Name))
		}
		if !contains(providerAPIVersions, p.APIVersion) {
			problems = append(problems, fmt.Sprintf("provider %q: apiVersion %q is not one of %s", p.Name, p.APIVersion, strings.Join(providerAPIVersions, ", ")))
		}
		pr := Provider{Source: src, Name: p.Name, MatchImages: p.MatchImages}
		for _, e := range p.Env {
			if e.Name == "AWS_REGION" || (e.Name == "AWS_DEFAULT_REGION" && pr.Region == "") {
				pr.Region = e.Value
			}
		}
		providers = append(providers, pr)
	}
	return providers, problems, nil
}

func jsonish(data []byte) bool {
	s := strings.TrimSpace(string(data))
	return strings.HasPrefix(s, "{")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
