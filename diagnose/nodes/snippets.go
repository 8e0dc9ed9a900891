package nodes

import (
	"fmt"
	"strings"
)

// The snippets below are what findings tell a person to write, and what setup prints:
// one source, so that what setup prints is what this package accepts (a test holds it).

// ECRMatchImages are the ECR host patterns of the ecr-credential-provider's documented
// config (kubernetes/cloud-provider-aws docs/credential_provider.md): pulls that name a
// cache URI directly.
var ECRMatchImages = []string{"*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com.cn"}

// upstreamServer is the registry a namespace's pulls go to without a mirror.
func upstreamServer(namespace string) string {
	if namespace == "docker.io" {
		return "https://registry-1.docker.io"
	}
	return "https://" + namespace
}

// cachePath is the API root of a cache prefix on an ECR registry.
func cachePath(prefix string) string {
	if prefix == "" || prefix == "ROOT" {
		return "/v2"
	}
	return "/v2/" + strings.Trim(prefix, "/")
}

// HostsTOML is a containerd hosts.toml (certs.d/<namespace>/hosts.toml) that sends pulls
// of a registry namespace to a cache prefix, with the upstream as the fallback.
func HostsTOML(namespace, cacheHost, prefix string) string {
	return fmt.Sprintf("server = %q\n[host.\"https://%s%s\"]\n  capabilities = [\"pull\", \"resolve\"]\n  override_path = true\n",
		upstreamServer(namespace), cacheHost, cachePath(prefix))
}

// CredentialProviderYAML is a kubelet CredentialProviderConfig whose ECR provider covers
// the ECR hosts and the registries mirrored to a cache: the kubelet asks a provider for
// the image the pod names (docker.io/library/nginx), not for the mirror's host. mirrored
// may hold the patterns a provider has already: each is listed once.
func CredentialProviderYAML(mirrored []string, region string) string {
	var b strings.Builder
	b.WriteString("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n")
	b.WriteString("  - name: ecr-credential-provider   # v1.29 or later: older ones refuse images outside ECR\n")
	b.WriteString("    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    defaultCacheDuration: 12h\n    matchImages:\n")
	for _, m := range matchList(mirrored) {
		fmt.Fprintf(&b, "      - %q\n", m)
	}
	if region != "" {
		fmt.Fprintf(&b, "    env:\n      - name: AWS_REGION   # the cache's region: the token is asked for there\n        value: %s\n", region)
	}
	return b.String()
}

// BottlerocketMirrorTOML is the Bottlerocket setting that sends pulls of a registry to a
// cache prefix: Bottlerocket uses the endpoint's path as the API root, as written.
func BottlerocketMirrorTOML(namespace, cacheHost, prefix string) string {
	return fmt.Sprintf("[[settings.container-registry.mirrors]]\nregistry = %q\nendpoint = [\"https://%s%s\"]\n", namespace, cacheHost, cachePath(prefix))
}

// BottlerocketProviderTOML enables the ECR credential provider for the ECR hosts and the
// mirrored registries.
func BottlerocketProviderTOML(mirrored []string) string {
	var q []string
	for _, m := range matchList(mirrored) {
		q = append(q, fmt.Sprintf("%q", m))
	}
	return "[settings.kubernetes.credential-providers.ecr-credential-provider]\nenabled = true\nimage-patterns = [" + strings.Join(q, ", ") + "]\n"
}

// matchList is the ECR hosts' patterns and then the others, each once, in order.
func matchList(others []string) []string {
	var out []string
	for _, m := range append(append([]string{}, ECRMatchImages...), others...) {
		if !contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}
