package nodes

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// dockerDaemon is the part of a Docker daemon.json that decides where pulls go.
type dockerDaemon struct {
	mirrors []string
}

func parseDaemonJSON(data []byte) (dockerDaemon, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return dockerDaemon{}, fmt.Errorf("not valid JSON: %w", err)
	}
	var d dockerDaemon
	if raw, ok := doc["registry-mirrors"]; ok {
		if err := json.Unmarshal(raw, &d.mirrors); err != nil {
			return dockerDaemon{}, fmt.Errorf(`registry-mirrors must be a list of URLs, like ["https://mirror.example.com"]`)
		}
	}
	return d, nil
}

// bottlerocket is what a Bottlerocket settings file (user data) says about mirrors and
// credentials.
type bottlerocket struct {
	mirrors map[string][]string // registry -> endpoints
	// credentialRegistries are the registries static credentials are set for (the values
	// are secrets and are never kept).
	credentialRegistries []string
	providers            []Provider
	providersSet         bool // settings.kubernetes.credential-providers.ecr-credential-provider is written
}

// bottlerocketDefaultPatterns are the image patterns of Bottlerocket's aws-k8s variants'
// ecr-credential-provider when the settings leave them unset: the ECR hosts only.
var bottlerocketDefaultPatterns = []string{"*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com.cn", "*.dkr.ecr-fips.*.amazonaws.com", "*.dkr.ecr.us-iso-east-1.c2s.ic.gov", "*.dkr.ecr.us-isob-east-1.sc2s.sgov.gov"}

func parseBottlerocket(src string, doc map[string]any) (bottlerocket, error) {
	b := bottlerocket{mirrors: map[string][]string{}}
	settings, _ := doc["settings"].(map[string]any)
	reg, _ := settings["container-registry"].(map[string]any)
	switch m := reg["mirrors"].(type) {
	case nil:
	case []any: // [[settings.container-registry.mirrors]] registry = "…" endpoint = […]
		for _, item := range m {
			t, ok := item.(map[string]any)
			if !ok {
				return b, fmt.Errorf("settings.container-registry.mirrors: each entry must be a table with registry and endpoint")
			}
			name, _ := t["registry"].(string)
			eps, err := stringList(t["endpoint"])
			if name == "" || err != nil {
				return b, fmt.Errorf(`settings.container-registry.mirrors: each entry needs registry = "…" and endpoint = ["https://…"]`)
			}
			b.mirrors[name] = append(b.mirrors[name], eps...)
		}
	case map[string]any: // [settings.container-registry.mirrors] "docker.io" = […]
		for name, v := range m {
			eps, err := stringList(v)
			if err != nil {
				return b, fmt.Errorf("settings.container-registry.mirrors.%q: must be a list of endpoints", name)
			}
			b.mirrors[name] = append(b.mirrors[name], eps...)
		}
	default:
		return b, fmt.Errorf("settings.container-registry.mirrors must be an array of tables")
	}
	if creds, ok := reg["credentials"].([]any); ok {
		for _, item := range creds {
			if t, ok := item.(map[string]any); ok {
				if r, ok := t["registry"].(string); ok {
					b.credentialRegistries = append(b.credentialRegistries, r)
				}
			}
		}
	}
	k8s, _ := settings["kubernetes"].(map[string]any)
	cps, _ := k8s["credential-providers"].(map[string]any)
	for name, v := range cps {
		t, ok := v.(map[string]any)
		if !ok {
			return b, fmt.Errorf("settings.kubernetes.credential-providers.%s must be a table", name)
		}
		if name == "ecr-credential-provider" {
			b.providersSet = true
		}
		if enabled, ok := t["enabled"].(bool); ok && !enabled {
			continue
		}
		p := Provider{Source: src, Name: name}
		if pats, ok := t["image-patterns"]; ok {
			list, err := stringList(pats)
			if err != nil {
				return b, fmt.Errorf("settings.kubernetes.credential-providers.%s.image-patterns must be a list of strings", name)
			}
			p.MatchImages = list
		} else if name == "ecr-credential-provider" {
			p.MatchImages = bottlerocketDefaultPatterns
		}
		b.providers = append(b.providers, p)
	}
	if !b.providersSet {
		b.providers = append(b.providers, Provider{Source: src + " (Bottlerocket's default)", Name: "ecr-credential-provider", MatchImages: bottlerocketDefaultPatterns})
	}
	return b, nil
}

// kopsCluster is what a kops cluster spec says about containerd mirrors.
type kopsCluster struct {
	mirrors        map[string][]string
	useECRForMirrs bool
}

func parseKops(data []byte) (kopsCluster, error) {
	var doc struct {
		Spec struct {
			Containerd struct {
				RegistryMirrors             map[string][]string `yaml:"registryMirrors"`
				UseECRCredentialsForMirrors bool                `yaml:"useECRCredentialsForMirrors"`
			} `yaml:"containerd"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return kopsCluster{}, fmt.Errorf("spec.containerd: %s", decodeError(data, err))
	}
	return kopsCluster{mirrors: doc.Spec.Containerd.RegistryMirrors, useECRForMirrs: doc.Spec.Containerd.UseECRCredentialsForMirrors}, nil
}

func stringList(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("not a list")
	}
	var out []string
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("not a list of strings")
		}
		out = append(out, s)
	}
	return out, nil
}

func sortedKeys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sampleImage is an image the kubelet would ask credentials for, for pulls from a
// registry namespace (the kubelet passes the normalized name: docker.io/library/nginx).
func sampleImage(namespace string) string {
	if namespace == "docker.io" {
		return "docker.io/library/nginx"
	}
	return strings.TrimSuffix(namespace, "/") + "/example/image"
}

// knownUpstreams are the registries ECR caches, by the names images use; a _default
// mirror serves all of them.
var knownUpstreams = []string{"docker.io", "public.ecr.aws", "ghcr.io", "quay.io", "registry.k8s.io", "registry.gitlab.com", "cgr.dev"}

// containerdConfig is what containerd's config.toml says about registries: the
// deprecated CRI registry.mirrors (each endpoint's path is the API root, as written), and
// config_path, the directory of hosts.toml files.
type containerdConfig struct {
	section    string // the table that holds them, for messages
	configPath string
	mirrors    map[string][]string
	authHosts  []string // hosts with static credentials under registry.configs (values never kept)
}

// The CRI plugin's registry table in containerd 1.x (config version 2) and 2.x (version 3).
var criRegistryTables = [][]string{
	{"plugins", "io.containerd.grpc.v1.cri", "registry"},
	{"plugins", "io.containerd.cri.v1.images", "registry"},
}

func parseContainerdConfig(doc map[string]any) (containerdConfig, error) {
	c := containerdConfig{mirrors: map[string][]string{}}
	for _, path := range criRegistryTables {
		var t any = doc
		for _, k := range path {
			m, _ := t.(map[string]any)
			t = m[k]
		}
		reg, ok := t.(map[string]any)
		if !ok {
			continue
		}
		c.section = fmt.Sprintf("[plugins.%q.registry]", path[1])
		if v, ok := reg["config_path"]; ok {
			s, ok := v.(string)
			if !ok {
				return c, fmt.Errorf("%s config_path must be a string", c.section)
			}
			c.configPath = s
		}
		if ms, ok := reg["mirrors"].(map[string]any); ok {
			for name, v := range ms {
				m, _ := v.(map[string]any)
				eps, err := stringList(m["endpoint"])
				if err != nil {
					return c, fmt.Errorf("%s mirrors.%q: endpoint must be a list of URLs", c.section, name)
				}
				c.mirrors[name] = append(c.mirrors[name], eps...)
			}
		}
		if cs, ok := reg["configs"].(map[string]any); ok {
			for host, v := range cs {
				if m, ok := v.(map[string]any); ok && m["auth"] != nil {
					c.authHosts = append(c.authHosts, host)
				}
			}
		}
	}
	sort.Strings(c.authHosts)
	return c, nil
}
