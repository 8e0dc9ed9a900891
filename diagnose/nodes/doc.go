// Package nodes reads what a node's container runtime and kubelet are configured with
// (containerd hosts.toml files, the Docker daemon's daemon.json, the kubelet's image
// credential provider config, Bottlerocket settings, a kops cluster spec) and says, for
// each mirror, whether pulls of which upstream reach which ECR pull through cache, and
// whether they carry ECR credentials when they get there.
//
// Its input is the bytes of files a person points at (the caller reads them), never a
// live node. It parses them (TOML with
// go-toml, YAML with yaml.v3, JSON with encoding/json), never runs anything, and imports
// only model: its verdicts are model.Findings whose fixes are the snippet to change. A
// snippet that replaces a list (matchImages) keeps every entry already there. A file it
// cannot decode is refused saying which field holds what kind of value, and which kind
// it should hold.
// A part it could not check (no credential provider config among the inputs, an
// account's rules that could not be read) is reported as not checked, never as a finding.
//
// The semantics it implements, each from its source:
//   - containerd's hosts.toml (docs/hosts.md, remotes/docker/config/hosts.go): a host's
//     URL path is its API root only with override_path = true; without it containerd
//     appends /v2 to the path. An ECR cache prefix is reached at /v2/<prefix>. Its
//     config.toml's deprecated registry.mirrors take the path as the API root, and
//     cannot sit beside config_path (the CRI plugin then does not load). It ignores keys
//     it does not know (a misspelled override_path): they are named, with the nearest
//     known key. certs.d/_default/hosts.toml serves every registry without a directory
//     of its own: pointed at one rule's prefix, it sends them all to one upstream's cache.
//   - the Docker daemon's registry-mirrors mirror Docker Hub only, send no credentials
//     to a mirror (moby/moby#30880), refuse a path before Docker 24 (moby/moby#36598)
//     and put it before /v2 since (moby/moby#46594): it cannot reach an ECR cache.
//   - the kubelet asks a credential provider for the image as the pod names it
//     (docker.io/library/nginx), not for the mirror host; matchImages globs match one
//     DNS label each, with the path a prefix and the port equal (kubelet-config.v1).
//   - Bottlerocket's container-registry.mirrors endpoints are used as the API root, path
//     as written; its ecr-credential-provider image-patterns are matchImages.
//   - kops' useECRCredentialsForMirrors adds the mirrored registries to matchImages.
package nodes
