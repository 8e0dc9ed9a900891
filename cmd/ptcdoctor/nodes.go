package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/ptcdoctor/ptcdoctor/diagnose/nodes"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

// Limits on what nodes reads: node configuration files are small, and a directory
// pointed at by mistake (/, a home) must not be read whole.
const (
	nodeFileMax  = 1 << 20
	nodeFilesMax = 2000
)

func newNodesCommand(g *globals) *cobra.Command {
	var withAccount bool
	cmd := &cobra.Command{
		Use:   "nodes PATH... | -",
		Short: "Check what nodes are configured with: do their pulls reach the cache, with credentials?",
		Long: `nodes reads node configuration files (never a live node) and says, for each mirror,
whether pulls of which upstream reach which ECR pull through cache, and whether they
carry ECR credentials when they get there:

  containerd   certs.d/<registry>/hosts.toml: server, [host."…"], override_path, capabilities;
               config.toml: the deprecated registry.mirrors, and config_path beside them
  Docker       daemon.json registry-mirrors (Docker Hub only, no credentials: never an ECR cache)
  kubelet      the image CredentialProviderConfig: matchImages must match the images pods name
               (docker.io/library/nginx), since the kubelet asks for credentials for those,
               not for the mirror's host
  Bottlerocket settings TOML: container-registry.mirrors, container-registry.credentials,
               kubernetes.credential-providers
  kops         the Cluster spec: containerd.registryMirrors, useECRCredentialsForMirrors

PATH is a file or a directory (read for the files above, e.g. /etc/containerd/certs.d);
- reads one file from standard input. Every finding comes with the snippet to write.
With --account (or --demo) each cache prefix is also checked against the account's rules.

Exit codes: 0 every route reaches its cache with credentials; 1 a finding at error
severity; 2 a file that cannot be read or parsed; 3 something could not be checked (a
route's credentials with no CredentialProviderConfig given, the account's rules).`,
		Example: `  ptcdoctor nodes /etc/containerd/certs.d /etc/eks/image-credential-provider/config.json
  ptcdoctor nodes testdata/nodes/missing-override-path
  ptcdoctor nodes --demo testdata/nodes/healthy-containerd
  cat daemon.json | ptcdoctor nodes -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			inputs, err := readNodeInputs(args, cmd.InOrStdin())
			if err != nil {
				return usageError{err}
			}
			var opt nodes.Options
			if withAccount || g.demo {
				s, err := g.open(cmd.Context())
				if err != nil {
					return err
				}
				defer s.Close()
				snap, err := s.acc.Scan(cmd.Context(), ecrops.Scope{RulesOnly: true}, nil)
				if err != nil {
					return err
				}
				opt.Snapshot = snap
			}
			r, err := nodes.Check(inputs, opt)
			if err != nil {
				return usageError{err}
			}
			printNodes(cmd.OutOrStdout(), r)
			for _, f := range r.Findings {
				if f.Severity == model.SeverityError {
					return findingsError{errQuiet}
				}
			}
			if len(r.NotChecked) > 0 {
				return errNotChecked
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&withAccount, "account", false, "also check each mirror's cache prefix against the account's rules (the usual --profile, --region flags)")
	return cmd
}

// errNotChecked ends a run in which something could not be checked (exit 3); the report said what.
var errNotChecked = errors.New("")

// readNodeInputs reads the files and directories named, and standard input for "-".
func readNodeInputs(args []string, stdin io.Reader) ([]nodes.Input, error) {
	var out []nodes.Input
	for _, a := range args {
		if a == "-" {
			data, err := io.ReadAll(io.LimitReader(stdin, nodeFileMax+1))
			if err != nil {
				return nil, fmt.Errorf("standard input: %w", err)
			}
			if len(data) > nodeFileMax {
				return nil, fmt.Errorf("standard input: larger than %d bytes: not a node configuration file", nodeFileMax)
			}
			out = append(out, nodes.Input{Name: "-", Data: data, Explicit: true})
			continue
		}
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			data, err := readSmall(a)
			if err != nil {
				return nil, err
			}
			out = append(out, nodes.Input{Name: a, Data: data, Explicit: true})
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != a {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() && nodeFileName(d.Name()) {
				if len(found) == nodeFilesMax {
					return fmt.Errorf("%s: more than %d configuration files; point at the directories that hold the node's configuration", a, nodeFilesMax)
				}
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no .toml, .json, .yaml or .yml file in it", a)
		}
		sort.Strings(found)
		for _, p := range found {
			data, err := readSmall(p)
			if err != nil {
				return nil, err
			}
			out = append(out, nodes.Input{Name: p, Data: data})
		}
	}
	return out, nil
}

func nodeFileName(name string) bool {
	for _, ext := range []string{".toml", ".json", ".yaml", ".yml"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

func readSmall(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, nodeFileMax+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if len(data) > nodeFileMax {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a node configuration file", p, nodeFileMax)
	}
	return data, nil
}

var sevLabel = map[model.Severity]string{model.SeverityError: "ERROR", model.SeverityWarning: "WARN ", model.SeverityInfo: "INFO "}

func printNodes(w io.Writer, r nodes.Report) {
	for _, f := range r.Files {
		say(w, "", "    ", fmt.Sprintf("%s (%s)", f.Name, f.Kind))
		for _, rt := range f.Routes {
			say(w, "  ", "      ", rt.Upstream+" → "+rt.Endpoint)
			switch {
			case rt.Cache == nil:
				say(w, "      ", "        ", "no ECR cache: "+rt.Why)
			case !rt.Reaches:
				say(w, "      ", "        ", fmt.Sprintf("cache %s in %s, prefix %s/: NOT REACHED (%s)", rt.Cache.Account, rt.Cache.Region, rt.Cache.Prefix, rt.Why))
			default:
				say(w, "      ", "        ", fmt.Sprintf("cache %s in %s, prefix %s/: reached · credentials: %s (%s)", rt.Cache.Account, rt.Cache.Region, rt.Cache.Prefix, rt.Credentials, rt.Why))
			}
		}
		for _, pr := range f.Providers {
			say(w, "  ", "      ", fmt.Sprintf("provider %s matches %s", pr.Name, strings.Join(pr.MatchImages, ", ")))
		}
	}
	for _, s := range r.Skipped {
		say(w, "", "  ", fmt.Sprintf("skipped %s: not a node configuration ptcdoctor reads", s))
	}
	errs, warns := 0, 0
	for _, f := range r.Findings {
		switch f.Severity {
		case model.SeverityError:
			errs++
		case model.SeverityWarning:
			warns++
		}
		head := fmt.Sprintf("%s %s  %s", sevLabel[f.Severity], f.Check, model.Printable(f.Subject.Name))
		if utf8.RuneCountInString(head) > textWidth(w) { // a long path: on a line of its own
			head = fmt.Sprintf("%s %s\n    %s", sevLabel[f.Severity], f.Check, model.Printable(f.Subject.Name))
		}
		fmt.Fprintf(w, "\n%s\n", head)
		say(w, "  ", "  ", f.Title)
		if f.Explanation != "" {
			say(w, "  ", "  ", f.Explanation)
		}
		for _, e := range f.Evidence {
			say(w, "  seen: ", "    ", e.Call+" → "+e.Answer)
		}
		for _, fx := range f.Fixes {
			say(w, "  Fix: ", "    ", fx.Title)
			// The snippet as it is, to be copied: never folded.
			printDocument(w, fx.Manual, "    ")
		}
	}
	if len(r.NotChecked) > 0 {
		fmt.Fprintln(w, "\nNot checked:")
		for _, n := range r.NotChecked {
			say(w, "  - ", "    ", n)
		}
	}
	fmt.Fprintf(w, "\n%s, %s, %s, %d not checked\n", plural(len(r.Files), "file"), plural(errs, "error"), plural(warns, "warning"), len(r.NotChecked))
}
