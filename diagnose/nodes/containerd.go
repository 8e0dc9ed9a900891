package nodes

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// hostEntry is one host a containerd hosts.toml names: a [host."…"] table or the server.
type hostEntry struct {
	url          string
	server       bool
	overridePath bool
	capabilities []string // nil: containerd's default (every capability)
	order        int
}

// hostsFile is a parsed hosts.toml: its registry namespace and its hosts, in the order
// containerd tries them (the [host] tables as written, then the server).
type hostsFile struct {
	namespace string
	hosts     []hostEntry
	// unknown are the keys containerd ignores (a misspelled override_path), where they are.
	unknown []string
}

// namespaceOf reads the registry namespace from a hosts.toml's directory
// (certs.d/<namespace>/hosts.toml); containerd writes a port as host_port_ on disk.
func namespaceOf(name string) string {
	if filepath.Base(name) != "hosts.toml" {
		return ""
	}
	ns := filepath.Base(filepath.Dir(name))
	// A directory that cannot be a registry host (hosts.toml copied to /tmp) names none.
	if ns != "_default" && ns != "localhost" && !strings.ContainsAny(ns, ".:_") {
		return ""
	}
	if h, port, ok := strings.Cut(strings.TrimSuffix(ns, "_"), "_"); ok && strings.HasSuffix(ns, "_") && port != "" && !strings.Contains(port, "_") {
		return h + ":" + port
	}
	return ns
}

func parseHostsTOML(name string, data []byte) (hostsFile, error) {
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		return hostsFile{}, fmt.Errorf("not valid TOML: %s", tomlError(err))
	}
	f := hostsFile{namespace: namespaceOf(name)}
	for _, k := range unknownKeys(doc, hostsRootKeys) {
		f.unknown = append(f.unknown, k+" at the top of the file")
	}
	if s, ok := doc["server"]; ok {
		url, ok := s.(string)
		if !ok {
			return hostsFile{}, fmt.Errorf("server must be a string")
		}
		e, err := hostFields(url, doc)
		if err != nil {
			return hostsFile{}, fmt.Errorf("server: %w", err)
		}
		e.server, e.order = true, 1<<30
		f.hosts = append(f.hosts, e)
		if f.namespace == "" {
			f.namespace = dockerHubName(parseEndpoint(withScheme(url)).host)
		}
	}
	if h, ok := doc["host"]; ok {
		table, ok := h.(map[string]any)
		if !ok {
			return hostsFile{}, fmt.Errorf(`host must be a table of [host."https://…"] entries`)
		}
		for url, v := range table {
			fields, ok := v.(map[string]any)
			if !ok {
				return hostsFile{}, fmt.Errorf("host %q must be a table", url)
			}
			for _, k := range unknownKeys(fields, hostsHostKeys) {
				f.unknown = append(f.unknown, fmt.Sprintf("%s in [host.%q]", k, url))
			}
			e, err := hostFields(url, fields)
			if err != nil {
				return hostsFile{}, fmt.Errorf("host %q: %w", url, err)
			}
			// go-toml keeps no order in a map: the order is where the table is written.
			e.order = strings.Index(string(data), url)
			f.hosts = append(f.hosts, e)
		}
	}
	sort.SliceStable(f.hosts, func(i, j int) bool {
		if f.hosts[i].order != f.hosts[j].order {
			return f.hosts[i].order < f.hosts[j].order
		}
		return f.hosts[i].url < f.hosts[j].url
	})
	if len(f.hosts) == 0 {
		return hostsFile{}, fmt.Errorf("no server and no [host] entries: not a containerd hosts.toml")
	}
	return f, nil
}

// hostFields reads the fields of a host (or of the file's root, for the server) that
// decide where its requests go.
func hostFields(url string, m map[string]any) (hostEntry, error) {
	e := hostEntry{url: url}
	if v, ok := m["override_path"]; ok {
		b, ok := v.(bool)
		if !ok {
			return e, fmt.Errorf("override_path must be true or false")
		}
		e.overridePath = b
	}
	if v, ok := m["capabilities"]; ok {
		list, ok := v.([]any)
		if !ok {
			return e, fmt.Errorf(`capabilities must be a list, like ["pull", "resolve"]`)
		}
		e.capabilities = []string{}
		for _, c := range list {
			s, ok := c.(string)
			if !ok {
				return e, fmt.Errorf("capabilities must be strings")
			}
			e.capabilities = append(e.capabilities, strings.ToLower(s))
		}
	}
	return e, nil
}

// withScheme adds https:// where a host has none, as containerd does for a server.
func withScheme(u string) string {
	if !strings.HasPrefix(u, "http") {
		return "https://" + u
	}
	return u
}

func (e hostEntry) can(c string) bool { return e.capabilities == nil || contains(e.capabilities, c) }

func tomlError(err error) string {
	if de, ok := err.(*toml.DecodeError); ok {
		row, col := de.Position()
		return fmt.Sprintf("line %d, column %d: %s", row, col, de.Error())
	}
	return err.Error()
}

// dockerHubName is the name images use for Docker Hub, which a server may name by one of
// its hosts.
func dockerHubName(host string) string {
	switch strings.ToLower(host) {
	case "registry-1.docker.io", "index.docker.io", "docker.io":
		return "docker.io"
	}
	return strings.ToLower(host)
}
