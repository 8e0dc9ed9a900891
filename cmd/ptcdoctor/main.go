// Command ptcdoctor lists, diagnoses and repairs Amazon ECR pull through caches.
package main

import (
	"errors"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ptcdoctor/ptcdoctor/ecrops"
)

// Exit codes that runbooks and CI rely on (see README.md).
const (
	exitOK       = 0
	exitFindings = 1
	exitUsage    = 2
	exitScan     = 3
	// exitUnrecognised: explain --error was given a message it does not recognise.
	exitUnrecognised = 4
)

// unrecognisedError marks a message explain --error does not know.
type unrecognisedError struct{ error }

// usageError marks an error as the caller's: a bad flag, reference or file.
type usageError struct{ error }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRootCommand()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	if err.Error() != "" {
		if isTerminal(os.Stderr) {
			say(os.Stderr, "ptcdoctor: ", "  ", err.Error()) // folded to the terminal
		} else {
			os.Stderr.WriteString("ptcdoctor: " + err.Error() + "\n") // one line a message, for logs and grep
		}
	}
	var ue usageError
	var fe findingsError
	var ie incompleteError
	var ne unrecognisedError
	switch {
	case errors.As(err, &ne):
		return exitUnrecognised
	case errors.As(err, &ue) || isFlagError(err):
		return exitUsage
	case errors.As(err, &ie):
		return exitScan
	case errors.As(err, &fe), errors.Is(err, ecrops.ErrReadOnly):
		return exitFindings
	}
	return exitScan
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "ptcdoctor",
		Short: "Explore, diagnose and repair Amazon ECR pull through caches",
		Long: `ptcdoctor lists the pull through cache rules of an Amazon ECR registry, the
repositories and images they cached, and the templates and secrets behind them;
it diagnoses why pulls through the cache fail, and repairs what it finds.

With no command it opens its terminal interface: read-only against AWS until
you press w. It ships a local stand-in for AWS, so that all of it can be tried
without an account:
  ptcdoctor --demo              the interface, on the demo account
  ptcdoctor --demo-fleet        the interface, on a demo fleet of accounts and regions
  ptcdoctor doctor --demo       the diagnosis, as text (--json, --markdown)
  ptcdoctor sim --scenario demo the stand-in itself, for the aws CLI and scripts`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("ptcdoctor {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	g := &globals{}
	g.register(root)
	root.Args = cobra.NoArgs
	var ff fleetFlags
	ff.register(root)
	root.RunE = func(cmd *cobra.Command, _ []string) error { return runTUI(cmd, g, &ff) }
	root.AddCommand(newSimCommand(), newDoctorCommand(g), newSetupCommand(g), newExplainCommand(g), newFixCommand(g), newJournalCommand(g), newUndoCommand(g), newNodesCommand(g))
	return root
}

// version names the build: the module version when installed with go install,
// else the commit it was built from (and whether the tree had changes), as Go
// records them in the binary.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+changes"
			}
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		v = "devel " + rev[:min(12, len(rev))] + dirty
	}
	return v + " " + info.GoVersion
}

// isFlagError recognises cobra's own usage errors (unknown verbs, missing arguments).
func isFlagError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires ", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
