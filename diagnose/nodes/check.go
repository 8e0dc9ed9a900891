package nodes

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"go.yaml.in/yaml/v3"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// Input is one file a person pointed at.
type Input struct {
	Name     string // its path, or "-" for standard input
	Data     []byte
	Explicit bool // named on the command line (not found in a directory)
}

// Kinds of node configuration.
const (
	KindContainerd   = "containerd hosts.toml"
	KindContainerdCf = "containerd config.toml"
	KindDocker       = "Docker daemon.json"
	KindKubelet      = "kubelet CredentialProviderConfig"
	KindBottlerocket = "Bottlerocket settings"
	KindKops         = "kops cluster spec"
)

// FileReport is what one file configures.
type FileReport struct {
	Name      string
	Kind      string
	Routes    []Route
	Providers []Provider
}

// Report is the verdict on a set of node files.
type Report struct {
	Files      []FileReport
	Findings   []model.Finding
	NotChecked []string // what could not be checked, and why
	Skipped    []string // files found in directories that are no node configuration
}

// Options adds what an account says, when one is open.
type Options struct {
	// Snapshot is the account's scan (rules at least); nil for none.
	Snapshot *model.Snapshot
}

// ErrUnknown marks a file that is none of the configurations this package reads.
var ErrUnknown = errors.New("not a node configuration ptcdoctor reads (containerd hosts.toml or config.toml, Docker daemon.json, kubelet CredentialProviderConfig, Bottlerocket settings TOML, kops Cluster YAML)")

// Check reads the files and judges every route they configure. An error is bad input:
// a file named explicitly that is no node configuration, or one that does not parse.
func Check(inputs []Input, opt Options) (Report, error) {
	var r Report
	c := checker{report: &r, opt: opt}
	for _, in := range inputs {
		if err := c.read(in); err != nil {
			if errors.Is(err, ErrUnknown) && !in.Explicit {
				r.Skipped = append(r.Skipped, in.Name)
				continue
			}
			return Report{}, fmt.Errorf("%s: %w", model.Printable(in.Name), err)
		}
	}
	c.judge()
	sort.SliceStable(r.Findings, func(i, j int) bool { return r.Findings[i].Severity.Rank() < r.Findings[j].Severity.Rank() })
	return r, nil
}

type checker struct {
	report *Report
	opt    Options
	// kubelet providers from CredentialProviderConfig files: they serve containerd's routes.
	kubelet     []Provider
	kubeletSeen bool
	// per-file credentials: Bottlerocket and kops carry their own.
	own map[string][]Provider
	// routes waiting for the credentials verdict, by file index.
	pending []pendingRoute
}

type pendingRoute struct {
	file, route int
	hostsEntry  *hostEntry
}

func (c *checker) read(in Input) error {
	kind, doc, err := classify(in)
	if err != nil {
		return err
	}
	fr := FileReport{Name: in.Name, Kind: kind}
	idx := len(c.report.Files)
	switch kind {
	case KindContainerd:
		hf, err := parseHostsTOML(in.Name, in.Data)
		if err != nil {
			return err
		}
		c.report.Files = append(c.report.Files, fr)
		c.containerd(idx, hf)
		return nil
	case KindContainerdCf:
		cc, err := parseContainerdConfig(doc)
		if err != nil {
			return err
		}
		c.report.Files = append(c.report.Files, fr)
		c.containerdConfig(idx, cc)
		return nil
	case KindDocker:
		d, err := parseDaemonJSON(in.Data)
		if err != nil {
			return err
		}
		c.report.Files = append(c.report.Files, fr)
		c.docker(idx, d)
		return nil
	case KindKubelet:
		ps, problems, err := parseCredentialProviderConfig(in.Name, in.Data)
		if err != nil {
			return err
		}
		fr.Providers = ps
		c.report.Files = append(c.report.Files, fr)
		c.kubelet = append(c.kubelet, ps...)
		c.kubeletSeen = true
		for _, p := range problems {
			c.add(model.SeverityError, "credential-provider-config", in.Name, "The kubelet refuses this credential provider config: "+p,
				"The kubelet validates its --image-credential-provider-config at start and does not start with an invalid one (kubelet-config.v1, CredentialProviderConfig).",
				"Make the config valid", CredentialProviderYAML(nil, ""))
		}
		return nil
	case KindBottlerocket:
		b, err := parseBottlerocket(in.Name, doc)
		if err != nil {
			return err
		}
		fr.Providers = b.providers
		c.report.Files = append(c.report.Files, fr)
		c.bottlerocket(idx, b)
		return nil
	case KindKops:
		k, err := parseKops(in.Data)
		if err != nil {
			return err
		}
		c.report.Files = append(c.report.Files, fr)
		c.kops(idx, k)
		return nil
	}
	return ErrUnknown
}

// classify tells which configuration a file is, by its name where that is certain and
// by its content otherwise (standard input has no name).
func classify(in Input) (string, map[string]any, error) {
	base := filepath.Base(in.Name)
	text := strings.TrimSpace(string(in.Data))
	if text == "" {
		return "", nil, errors.New("the file is empty")
	}
	if strings.HasPrefix(text, "{") {
		var doc map[string]any
		if err := json.Unmarshal(in.Data, &doc); err != nil {
			if base == "daemon.json" {
				return "", nil, fmt.Errorf("not valid JSON: %w", err)
			}
			return "", nil, ErrUnknown
		}
		if _, ok := doc["registry-mirrors"]; ok || base == "daemon.json" {
			return KindDocker, doc, nil
		}
		if doc["kind"] == "CredentialProviderConfig" {
			return KindKubelet, doc, nil
		}
		return "", nil, ErrUnknown
	}
	var tdoc map[string]any
	terr := toml.Unmarshal(in.Data, &tdoc)
	if base == "hosts.toml" {
		if terr != nil {
			return "", nil, fmt.Errorf("not valid TOML: %s", tomlError(terr))
		}
		return KindContainerd, tdoc, nil
	}
	if terr == nil {
		if _, ok := tdoc["settings"]; ok {
			return KindBottlerocket, tdoc, nil
		}
		if _, ok := tdoc["plugins"]; ok {
			return KindContainerdCf, tdoc, nil
		}
		_, server := tdoc["server"]
		_, host := tdoc["host"]
		if server || host {
			return KindContainerd, tdoc, nil
		}
	}
	var ydoc struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
	}
	if err := yaml.Unmarshal(in.Data, &ydoc); err == nil {
		switch {
		case ydoc.Kind == "CredentialProviderConfig":
			return KindKubelet, nil, nil
		case ydoc.Kind == "Cluster" && strings.HasPrefix(ydoc.APIVersion, "kops.k8s.io/"):
			return KindKops, nil, nil
		}
	}
	return "", nil, ErrUnknown
}

// add records a finding about a file, with the snippet that fixes it.
func (c *checker) add(sev model.Severity, check, file, title, explanation, fixTitle, snippet string, evidence ...model.Evidence) {
	f := model.Finding{Check: check, Severity: sev, Subject: model.Subject{Kind: "node file", Name: file},
		Title: title, Explanation: explanation, Evidence: evidence}
	if snippet != "" {
		f.Fixes = []model.Fix{{Title: fixTitle, Manual: snippet}}
	}
	c.report.Findings = append(c.report.Findings, f)
}

func read(file, what, answer string) model.Evidence {
	return model.Evidence{Call: "read " + file + ": " + what, Answer: answer}
}
