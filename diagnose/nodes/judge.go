package nodes

import (
	"fmt"
	"strings"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// Sources the verdicts rest on, named in the explanations.
const (
	srcHostsMD      = "containerd docs/hosts.md and remotes/docker/config/hosts.go"
	srcDockerMirror = "Docker: \"Only the central Hub can be mirrored\" (docs.docker.com/docker-hub/image-library/mirror); no credentials are sent to a mirror (moby/moby#30880); a path is refused before Docker 24 (moby/moby#36598) and put before /v2 since (moby/moby#46594)"
	srcMatchImages  = "kubelet-config.v1 CredentialProvider.matchImages; kops adds the mirrored registries to matchImages for the same reason (useECRCredentialsForMirrors, kubernetes/kops#16593)"
)

func (c *checker) route(idx int, r Route) int {
	f := &c.report.Files[idx]
	f.Routes = append(f.Routes, r)
	return len(f.Routes) - 1
}

// containerd judges the hosts of one hosts.toml, in the order containerd tries them.
func (c *checker) containerd(idx int, hf hostsFile) {
	file := c.report.Files[idx].Name
	ns := hf.namespace
	if ns == "" {
		ns = "(unknown registry: name the file certs.d/<registry>/hosts.toml)"
	}
	for _, k := range hf.unknown {
		c.add(model.SeverityWarning, "containerd-config", file, "containerd ignores an unknown key: "+k,
			"containerd reads only the keys it knows in a hosts.toml and ignores the others without a word ("+srcHostsMD+"): what the key was meant to set is not set.",
			"", "", read(file, "keys", k))
	}
	for i := range hf.hosts {
		h := hf.hosts[i]
		where := fmt.Sprintf("[host.%q]", h.url)
		if h.server {
			where = fmt.Sprintf("server = %q", h.url)
		}
		for _, cp := range h.capabilities {
			if cp != "pull" && cp != "resolve" && cp != "push" {
				c.add(model.SeverityError, "mirror-capabilities", file, fmt.Sprintf("containerd refuses %s: unknown capability %q", where, cp),
					"containerd accepts only pull, resolve and push; with another value it cannot load this hosts.toml ("+srcHostsMD+").",
					"Use pull and resolve", `  capabilities = ["pull", "resolve"]`, read(file, where, "capabilities = "+strings.Join(h.capabilities, ", ")))
			}
		}
		e := parseEndpoint(withScheme(h.url))
		if e.bad != "" {
			c.add(model.SeverityError, "mirror-path", file, fmt.Sprintf("containerd cannot use %s: %s", where, e.bad), "", "", "", read(file, where, e.bad))
			continue
		}
		root := containerdRoot(e.path, h.overridePath)
		cache, reaches := cacheOf(e, root)
		if h.server && e.hostname() == hf.namespace {
			cache = nil // the registry itself (an ECR upstream of an ECR cache): no mirror
		}
		r := Route{Source: file, Runtime: "containerd", Upstream: ns, Endpoint: h.url, APIRoot: root, Cache: cache, Reaches: reaches}
		if cache == nil {
			r.Why = "not an ECR registry"
			if h.server {
				r.Why = "the fallback when every mirror failed: pulls that reach it bypass the cache"
			}
			c.route(idx, r)
			continue
		}
		repo := strings.TrimPrefix(strings.TrimPrefix(sampleImage(hf.namespace), hf.namespace), "/")
		if !reaches {
			r.Credentials, r.Why = "-", "requests go to "+manifestURL(e, root, repo)+", outside the cache prefix"
			fix := HostsTOML(hf.namespace, cache.Host, cache.Prefix)
			msg := fmt.Sprintf("containerd appends /v2 to the path of a host without override_path = true, so it asks %s; ECR serves the cache prefix %s/ at https://%s%s/ (%s).",
				manifestURL(e, root, repo), cache.Prefix, cache.Host, cachePath(cache.Prefix), srcHostsMD)
			if h.overridePath {
				msg = fmt.Sprintf("With override_path = true the path is the API root as written, so containerd asks %s; ECR serves the cache prefix %s/ under /v2: the path must be %s (%s).",
					manifestURL(e, root, repo), cache.Prefix, cachePath(cache.Prefix), srcHostsMD)
			}
			c.add(model.SeverityError, "mirror-path", file, fmt.Sprintf("Pulls of %s through %s miss the cache prefix %s/", ns, h.url, cache.Prefix), msg,
				"Write the host as the cache prefix under /v2, with override_path", fix,
				read(file, where, fmt.Sprintf("override_path = %t: API root %s", h.overridePath, root)))
			c.route(idx, r)
			continue
		}
		switch {
		case !h.can("pull"):
			c.add(model.SeverityError, "mirror-capabilities", file, fmt.Sprintf("containerd never pulls from %s: it lacks the pull capability", h.url),
				"A host is used only for the operations its capabilities list ("+srcHostsMD+").", "Give it pull and resolve", `  capabilities = ["pull", "resolve"]`,
				read(file, where, "capabilities = "+strings.Join(h.capabilities, ", ")))
			r.Reaches, r.Why = false, "no pull capability"
		case !h.can("resolve"):
			c.add(model.SeverityWarning, "mirror-capabilities", file, fmt.Sprintf("Tags are resolved at the upstream, not at %s", h.url),
				"Without resolve, containerd turns a tag into a digest at the next host (the upstream) and asks the cache by digest; a first pull by digest of an image the cache has not stored arrives as \"not found\", and the tag lookup still needs the upstream ("+srcHostsMD+").",
				"Let the cache resolve tags", `  capabilities = ["pull", "resolve"]`, read(file, where, "capabilities = "+strings.Join(h.capabilities, ", ")))
		}
		// At the registry root the repositories may be plain ones holding copies of every
		// registry's images; a prefix is one rule's, caching one upstream.
		if hf.namespace == "_default" && r.Reaches && cache.Prefix != "ROOT" {
			c.defaultMirror(file, where, h.url, cache)
		}
		ri := c.route(idx, r)
		c.pending = append(c.pending, pendingRoute{file: idx, route: ri})
	}
}

// defaultMirror warns of a _default hosts.toml that sends every registry to one cache:
// a pull through cache rule caches one upstream, so the images of the other registries
// are looked up in the wrong one.
func (c *checker) defaultMirror(file, where, url string, cache *Cache) {
	under := cache.Prefix + "/"
	registry := "<registry>"
	for p, reg := range defaultPrefixes {
		if strings.EqualFold(cache.Prefix, p) {
			registry = reg
		}
	}
	c.add(model.SeverityWarning, "mirror-path", file, fmt.Sprintf("Every registry without a hosts.toml of its own is pulled through %s", under),
		fmt.Sprintf("containerd uses certs.d/_default/hosts.toml for each registry that has no directory of its own (%s), so quay.io/org/app and ghcr.io/org/app are asked of %s as %sorg/app, alike. A pull through cache rule caches one upstream: the images of the other registries are looked up there, where they do not exist, and the pulls fail or fall back to their upstream.",
			srcHostsMD, url, under),
		"Give each registry whose cache this is a hosts.toml of its own, and drop the _default one",
		"# /etc/containerd/certs.d/"+registry+"/hosts.toml\n# (one file a registry, each at the prefix of its own rule)\n"+HostsTOML(registry, cache.Host, cache.Prefix),
		read(file, where, "_default: every registry → "+url))
}

// defaultPrefixes are the prefixes the ECR console proposes, by the registry they cache.
var defaultPrefixes = map[string]string{"docker-hub": "docker.io", "ecr-public": "public.ecr.aws", "github": "ghcr.io", "quay": "quay.io",
	"k8s": "registry.k8s.io", "kubernetes": "registry.k8s.io", "gitlab": "registry.gitlab.com", "chainguard": "cgr.dev"}

// containerdConfig judges containerd's config.toml: the deprecated registry.mirrors
// cannot sit beside config_path, and their endpoints' paths are API roots as written.
func (c *checker) containerdConfig(idx int, cc containerdConfig) {
	file := c.report.Files[idx].Name
	if len(cc.mirrors) > 0 && cc.configPath != "" {
		c.add(model.SeverityError, "containerd-config", file, "containerd does not load its CRI plugin: registry mirrors beside config_path",
			"containerd refuses a CRI registry config with both: \"`mirrors` cannot be set when `config_path` is provided\"; without the CRI plugin the kubelet pulls nothing. Mirrors belong in config_path's hosts.toml files (containerd docs/hosts.md: the mirrors pattern is deprecated).",
			"Remove the "+cc.section+" mirrors tables; write each mirror as "+cc.configPath+"/<registry>/hosts.toml", hostsFilesFor(cc),
			read(file, cc.section, "config_path = "+cc.configPath+" and mirrors for "+strings.Join(sortedKeys(cc.mirrors), ", ")))
		return
	}
	for _, ns := range sortedKeys(cc.mirrors) {
		for _, ep := range cc.mirrors[ns] {
			c.legacyMirror(idx, "containerd", ns, ep, func(host, prefix string) string {
				return fmt.Sprintf("# %s mirrors.%q (deprecated), the path as the API root:\n#   endpoint = [\"https://%s%s\"]\n# or, better, %s/hosts.toml under config_path:\n%s",
					cc.section, ns, host, cachePath(prefix), ns, HostsTOML(ns, host, prefix))
			})
		}
	}
	for _, h := range cc.authHosts {
		if _, _, ok := ecrHost(h); ok {
			c.add(model.SeverityWarning, "mirror-credentials", file, "Static credentials for the ECR registry "+h+" expire within 12 hours",
				"An ECR authorization token is valid for 12 hours; credentials written in registry.configs are static, so pulls fail with 401 once it expires. The kubelet's ECR credential provider fetches fresh tokens.",
				"Remove the static auth; let the ECR credential provider cover the mirrored registries", CredentialProviderYAML(sortedKeys(cc.mirrors), ""),
				read(file, cc.section+" configs", h+" auth (value not shown)"))
		}
	}
}

// hostsFilesFor writes a config.toml's mirrors as the hosts.toml files that replace them.
func hostsFilesFor(cc containerdConfig) string {
	var b strings.Builder
	for _, ns := range sortedKeys(cc.mirrors) {
		fmt.Fprintf(&b, "# %s/%s/hosts.toml\n", strings.TrimSuffix(cc.configPath, "/"), ns)
		for _, ep := range cc.mirrors[ns] {
			e := parseEndpoint(ep)
			if acct, region, ok := ecrHost(e.hostname()); ok && acct != "" && region != "" {
				b.WriteString(HostsTOML(ns, e.hostname(), intendedPrefix(e.path)))
				continue
			}
			fmt.Fprintf(&b, "[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n", ep)
		}
	}
	return b.String()
}

// docker judges a daemon.json's registry-mirrors: they serve Docker Hub only, and never
// carry credentials, so none can be an ECR cache.
func (c *checker) docker(idx int, d dockerDaemon) {
	file := c.report.Files[idx].Name
	for _, m := range d.mirrors {
		e := parseEndpoint(m)
		r := Route{Source: file, Runtime: "docker", Upstream: "docker.io", Endpoint: m, Credentials: "no"}
		acct, region, ok := ecrHost(e.hostname())
		if !ok {
			r.Why = "not an ECR registry"
			c.route(idx, r)
			continue
		}
		prefix := intendedPrefix(e.path)
		r.Cache = &Cache{Host: e.hostname(), Account: acct, Region: region, Prefix: prefix}
		r.APIRoot = e.path + "/v2"
		r.Why = "the daemon sends no credentials to a mirror; ECR answers 401 and the daemon falls back to Docker Hub"
		c.route(idx, r)
		if prefix == "ROOT" {
			prefix = "docker-hub"
		}
		c.add(model.SeverityError, "docker-daemon-mirror", file, fmt.Sprintf("The Docker daemon cannot pull through the ECR cache %s", m),
			fmt.Sprintf("The daemon's registry-mirrors serve Docker Hub only, and it sends a mirror no credentials, while ECR answers every request without an ECR token with 401: the daemon then falls back to registry-1.docker.io, so pulls bypass the cache and count against Docker Hub's limits. A path cannot carry the cache prefix either: Docker before 24 refuses to start with one, later versions ask %s/v2/…, where ECR serves nothing (%s).",
				strings.TrimSuffix(m, "/"), srcDockerMirror),
			"Remove the mirror; pull by the cache URI after docker login, or use containerd with certs.d/docker.io/hosts.toml",
			fmt.Sprintf("# daemon.json: remove %q from registry-mirrors, then pull the cache URI:\n#   aws ecr get-login-password --region %s | docker login --username AWS --password-stdin %s\n#   docker pull %s/%s/library/nginx:1.27\n# or, with containerd, /etc/containerd/certs.d/docker.io/hosts.toml:\n%s",
				m, region, e.hostname(), e.hostname(), prefix, HostsTOML("docker.io", e.hostname(), prefix)),
			read(file, "registry-mirrors", m))
	}
}

// bottlerocket judges Bottlerocket's mirrors: the endpoint's path is the API root as
// written (a scheme is required), and its own credential provider settings serve them.
func (c *checker) bottlerocket(idx int, b bottlerocket) {
	file := c.report.Files[idx].Name
	c.ownProviders(file, b.providers)
	for _, ns := range sortedKeys(b.mirrors) {
		for _, ep := range b.mirrors[ns] {
			c.legacyMirror(idx, "bottlerocket", ns, ep, func(host, prefix string) string { return BottlerocketMirrorTOML(ns, host, prefix) })
		}
	}
	for _, reg := range b.credentialRegistries {
		if _, _, ok := ecrHost(reg); ok {
			c.add(model.SeverityWarning, "mirror-credentials", file, "Static credentials for the ECR registry "+reg+" expire within 12 hours",
				"An ECR authorization token is valid for 12 hours; settings.container-registry.credentials are static, so pulls through the mirror fail with 401 once it expires. The ECR credential provider fetches a fresh token.",
				"Drop the static entry and let the ECR credential provider cover the mirrored registries", BottlerocketProviderTOML(sortedKeys(b.mirrors)),
				read(file, "settings.container-registry.credentials", "registry = "+reg+" (value not shown)"))
		}
	}
}

// kops judges a cluster spec's containerd registryMirrors.
func (c *checker) kops(idx int, k kopsCluster) {
	file := c.report.Files[idx].Name
	patterns := append([]string{}, ECRMatchImages...)
	if k.useECRForMirrs {
		patterns = append(patterns, sortedKeys(k.mirrors)...) // what kops writes (nodeup kubelet.go)
	}
	c.ownProviders(file, []Provider{{Source: file + " (kops' ecr-credential-provider)", Name: "ecr-credential-provider", MatchImages: patterns}})
	for _, ns := range sortedKeys(k.mirrors) {
		name := ns
		if name == "*" {
			name = "_default"
		}
		for _, ep := range k.mirrors[ns] {
			c.legacyMirror(idx, "kops", name, ep, func(host, prefix string) string {
				return fmt.Sprintf("spec:\n  containerd:\n    useECRCredentialsForMirrors: true\n    registryMirrors:\n      %s:\n        - https://%s%s\n", ns, host, cachePath(prefix))
			})
			// kops 1.36 writes each mirror as a hosts.toml [host] without override_path,
			// where containerd appends /v2 to the path: a prefix is then missed.
			if e := parseEndpoint(ep); e.bad == "" && e.path != "" && e.path != "/v2" {
				if cache, ok := cacheOf(e, e.path); ok {
					c.add(model.SeverityWarning, "mirror-path", file, fmt.Sprintf("With kops 1.36 or later, pulls of %s through %s miss the cache prefix %s/", name, ep, cache.Prefix),
						fmt.Sprintf("Before 1.36 kops writes registryMirrors into containerd's registry.mirrors, where the path is the API root and %s reaches %s/. Since 1.36 (kubernetes/kops commit b15ba45, \"Support containerd config toml v3\") it writes certs.d/%s/hosts.toml with [host.%q] and no override_path, so containerd asks %s. Which one a node has shows in that file.",
							ep, cache.Prefix, name, ep, manifestURL(e, containerdRoot(e.path, false), "<repository>")),
						"On a node, check the file kops wrote", "ptcdoctor nodes /etc/containerd/certs.d/"+name+"/hosts.toml /var/lib/kubelet/credential-provider.conf   # where kops writes them",
						read(file, "spec.containerd.registryMirrors."+ns, ep))
				}
			}
		}
	}
}

func (c *checker) ownProviders(file string, ps []Provider) {
	if c.own == nil {
		c.own = map[string][]Provider{}
	}
	c.own[file] = append(c.own[file], ps...)
}

// legacySource says where each runtime's mirror endpoints are read as API roots.
var legacySource = map[string]string{
	"containerd":   "containerd's deprecated CRI registry.mirrors take an endpoint's path in place of /v2; Harbor's proxy mirrors are written https://<host>/v2/<project> for that reason (goharbor/harbor#11108)",
	"bottlerocket": "Bottlerocket renders its mirrors as containerd registry mirrors; bottlerocket-os/bottlerocket#4422 shows the path used as written",
	"kops":         "kops writes registryMirrors as containerd registry mirrors",
}

// legacyMirror judges a mirror endpoint written as containerd's registry.mirrors
// endpoints are: the path, as written, is the API root (/v2 when there is none).
func (c *checker) legacyMirror(idx int, runtime, ns, ep string, fix func(host, prefix string) string) {
	file := c.report.Files[idx].Name
	e := parseEndpoint(ep)
	r := Route{Source: file, Runtime: runtime, Upstream: ns, Endpoint: ep}
	if e.bad != "" {
		if _, _, ok := ecrHost(e.hostname()); ok {
			prefix := intendedPrefix(e.path)
			c.add(model.SeverityError, "mirror-path", file, fmt.Sprintf("The mirror %s for %s is not a URL containerd can use: %s", ep, ns, e.bad),
				"containerd reads a mirror endpoint as a URL with its scheme; without one it never reaches the cache (bottlerocket-os/bottlerocket#3631).",
				"Write the endpoint as https:// and the cache prefix under /v2", fix(e.hostname(), prefix), read(file, "mirror "+ns, ep))
		}
		r.Why = e.bad
		c.route(idx, r)
		return
	}
	root := e.path
	if root == "" {
		root = "/v2"
	}
	r.APIRoot = root
	cache, reaches := cacheOf(e, root)
	r.Cache, r.Reaches = cache, reaches
	if cache == nil {
		r.Why = "not an ECR registry"
		c.route(idx, r)
		return
	}
	if !reaches {
		r.Credentials, r.Why = "-", "requests go to "+manifestURL(e, root, "<repository>")+", outside the cache prefix"
		c.add(model.SeverityError, "mirror-path", file, fmt.Sprintf("Pulls of %s through %s miss the cache prefix %s/", ns, ep, cache.Prefix),
			fmt.Sprintf("The endpoint's path is used as the registry API root, as written: containerd asks %s, while ECR serves the cache prefix %s/ at https://%s%s/ (%s).",
				manifestURL(e, root, "<repository>"), cache.Prefix, cache.Host, cachePath(cache.Prefix), legacySource[runtime]),
			"Write the endpoint as the cache prefix under /v2", fix(cache.Host, cache.Prefix), read(file, "mirror "+ns, ep))
		c.route(idx, r)
		return
	}
	ri := c.route(idx, r)
	c.pending = append(c.pending, pendingRoute{file: idx, route: ri})
}

// judge decides, once every file is read, whether each route that reaches a cache
// carries ECR credentials, and checks it against the account when one is open.
func (c *checker) judge() {
	for _, p := range c.pending {
		f := &c.report.Files[p.file]
		r := &f.Routes[p.route]
		providers, own := c.own[f.Name]
		if !own && !c.kubeletSeen {
			r.Credentials, r.Why = "not checked", "no kubelet CredentialProviderConfig among the inputs"
			c.report.NotChecked = append(c.report.NotChecked, fmt.Sprintf("credentials of %s → %s (%s): no kubelet CredentialProviderConfig among the inputs; add /etc/eks/image-credential-provider/config.json or the file the kubelet's --image-credential-provider-config names",
				r.Upstream, r.Endpoint, f.Name))
			continue
		}
		if !own {
			providers = c.kubelet
		}
		c.credentials(f, r, providers, own)
		c.account(f.Name, r)
	}
}

func (c *checker) credentials(f *FileReport, r *Route, providers []Provider, own bool) {
	namespaces := []string{r.Upstream}
	if r.Upstream == "_default" {
		namespaces = knownUpstreams
	}
	var covered, uncovered []string
	var by *Provider
	for _, ns := range namespaces {
		found := false
		for i := range providers {
			if !providers[i].ecr() {
				continue
			}
			if _, ok := providers[i].Matches(sampleImage(ns)); ok {
				found, by = true, &providers[i]
				break
			}
		}
		if found {
			covered = append(covered, ns)
		} else {
			uncovered = append(uncovered, ns)
		}
	}
	var patterns []string
	for _, p := range providers {
		if p.ecr() {
			patterns = append(patterns, p.MatchImages...)
		}
	}
	if len(uncovered) == 0 {
		r.Credentials, r.Why = "yes", fmt.Sprintf("%s matches %s", by.Name, sampleImage(namespaces[0]))
		// For an image in ECR the provider takes the region from the image's host; only
		// for one outside ECR does it ask in the region of its environment.
		_, _, inECR := ecrHost(strings.SplitN(sampleImage(namespaces[0]), "/", 2)[0])
		if by.Region == "" && !inECR && !own {
			c.add(model.SeverityWarning, "mirror-credentials", f.Name, fmt.Sprintf("The ECR token for pulls of %s is asked for in a region this config does not set", r.Upstream),
				fmt.Sprintf("For an image outside ECR (%s) the ecr-credential-provider finds no region in the image's host and uses the AWS SDK's default region, from the kubelet's environment or AWS config files, which these files do not show; without one it gets no token. %s is in %s.", sampleImage(namespaces[0]), r.Cache.Host, r.Cache.Region),
				"Set AWS_REGION in the provider's env", fmt.Sprintf("    env:\n      - name: AWS_REGION\n        value: %s", r.Cache.Region), read(by.Source, by.Name+" env", "no AWS_REGION"))
		}
		if by.Region != "" && by.Region != r.Cache.Region && !inECR {
			c.add(model.SeverityWarning, "mirror-credentials", f.Name, fmt.Sprintf("The ECR token is asked for in %s, the cache %s is in %s", by.Region, r.Cache.Host, r.Cache.Region),
				"For an image outside ECR, the ecr-credential-provider asks GetAuthorizationToken in the region of its environment (AWS_REGION); a token is for the registry of that region.",
				"Set AWS_REGION to the cache's region", fmt.Sprintf("    env:\n      - name: AWS_REGION\n        value: %s", r.Cache.Region), read(by.Source, by.Name+" env AWS_REGION", by.Region))
		}
		return
	}
	sev, state := model.SeverityError, "no"
	if len(covered) > 0 {
		sev, state = model.SeverityWarning, "partly"
	}
	r.Credentials = state
	r.Why = "no ECR credential provider matches " + sampleImage(uncovered[0])
	// The snippet replaces the provider's list: it keeps every pattern there and adds
	// what is missing, so that copying it takes no registry away.
	keep := append(append([]string{}, patterns...), uncovered...)
	fixTitle, fix := "Add the mirrored registries to matchImages", CredentialProviderYAML(keep, r.Cache.Region)
	if len(patterns) > 0 {
		fixTitle = fmt.Sprintf("Add %s to the ECR provider's matchImages, keeping the patterns there", strings.Join(uncovered, ", "))
	}
	switch r.Runtime {
	case "bottlerocket":
		fixTitle, fix = "Add the mirrored registries to the ECR credential provider's image-patterns", BottlerocketProviderTOML(keep)
	case "kops":
		fixTitle, fix = "Let kops add the mirrored registries to the kubelet's matchImages", "spec:\n  containerd:\n    useECRCredentialsForMirrors: true\n"
	}
	src := "the kubelet's CredentialProviderConfig"
	if own {
		src = providersSource(providers)
	}
	c.add(sev, "mirror-credentials", f.Name, fmt.Sprintf("Pulls of %s through %s carry no ECR credentials", strings.Join(uncovered, ", "), r.Endpoint),
		fmt.Sprintf("The kubelet asks a credential provider for the image as the pod names it (%s), not for the mirror's host, and only providers whose matchImages match it are asked (%s). No ECR provider in %s matches, so containerd reaches %s without a token: ECR answers 401 and containerd falls back to the upstream, bypassing the cache.",
			sampleImage(uncovered[0]), srcMatchImages, src, r.Cache.Host),
		fixTitle, fix, read(src, "ECR provider matchImages", strings.Join(patterns, ", ")))
}

func providersSource(ps []Provider) string {
	if len(ps) > 0 {
		return ps[0].Source
	}
	return "the settings"
}

// account checks a route's cache prefix against the rules of the open account.
func (c *checker) account(file string, r *Route) {
	snap := c.opt.Snapshot
	if snap == nil || r.Cache == nil || !r.Reaches {
		return
	}
	if snap.AccountID != r.Cache.Account || snap.Region != r.Cache.Region {
		c.report.NotChecked = append(c.report.NotChecked, fmt.Sprintf("rule behind %s: it names account %s in %s; the account open is %s in %s", r.Endpoint, r.Cache.Account, r.Cache.Region, snap.AccountID, snap.Region))
		return
	}
	for _, e := range snap.Errors {
		if e.Operation == "DescribePullThroughCacheRules" { // the rules could not be read
			c.report.NotChecked = append(c.report.NotChecked, fmt.Sprintf("rule behind %s: %s failed: %s", r.Endpoint, e.Operation, e.Error()))
			return
		}
	}
	rule := snap.Rule(r.Cache.Prefix)
	ev := model.Evidence{Call: "ecr:DescribePullThroughCacheRules", Answer: fmt.Sprintf("%d rule%s", len(snap.Rules), map[bool]string{true: "", false: "s"}[len(snap.Rules) == 1])}
	if rule == nil {
		var have []string
		for _, x := range snap.Rules {
			have = append(have, x.Prefix+"/ → "+x.UpstreamURL)
		}
		c.add(model.SeverityError, "mirror-rule", file, fmt.Sprintf("No pull through cache rule has the prefix %s/ that %s asks for", r.Cache.Prefix, r.Endpoint),
			fmt.Sprintf("Pulls through this mirror ask %s for repositories under %s/; with no rule for that prefix they fail as \"repository does not exist\". Rules: %s.", r.Cache.Host, r.Cache.Prefix, strings.Join(have, ", ")),
			"Create the rule, or point the mirror at an existing prefix", fmt.Sprintf("ptcdoctor setup --upstream %s --prefix %s --dry-run", upstreamEnum(r.Upstream), r.Cache.Prefix), ev)
		return
	}
	want := r.Upstream
	if want == "docker.io" {
		want = model.DockerHubRegistry
	}
	if r.Upstream != "_default" && !strings.EqualFold(rule.UpstreamURL, want) {
		c.add(model.SeverityError, "mirror-rule", file, fmt.Sprintf("The mirror for %s points at %s/, a cache of %s", r.Upstream, r.Cache.Prefix, rule.UpstreamURL),
			fmt.Sprintf("Pulls of %s images would be looked up on %s, where they do not exist.", r.Upstream, rule.UpstreamURL),
			"Point the mirror at the prefix that caches "+want, "", ev)
	}
}

// upstreamEnum is ECR's upstreamRegistry value for the registry images name, for the
// setup command a finding suggests.
func upstreamEnum(namespace string) string {
	switch {
	case namespace == "docker.io":
		return "docker-hub"
	case namespace == "public.ecr.aws":
		return "ecr-public"
	case namespace == "ghcr.io":
		return "github-container-registry"
	case namespace == "quay.io":
		return "quay"
	case namespace == "registry.k8s.io":
		return "k8s"
	case namespace == "registry.gitlab.com":
		return "gitlab-container-registry"
	case namespace == "cgr.dev":
		return "chainguard"
	case strings.HasSuffix(namespace, ".azurecr.io"):
		return "azure-container-registry --azure-registry " + strings.TrimSuffix(namespace, ".azurecr.io")
	}
	if _, _, ok := ecrHost(namespace); ok {
		return "ecr"
	}
	return "<upstream>"
}
