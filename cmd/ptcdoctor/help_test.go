package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestHelpExamplesParse holds every "ptcdoctor ..." line of every verb's --help
// examples to the verb's real flags and arguments: an example that would fail
// with "unknown flag" teaches a user the wrong thing.
func TestHelpExamplesParse(t *testing.T) {
	var walk func(*cobra.Command)
	seen := 0
	walk = func(c *cobra.Command) {
		for _, line := range exampleInvocations(c.Example) {
			seen++
			root := newRootCommand()
			cmd, rest, err := root.Find(line[1:])
			if err != nil {
				t.Errorf("%s: %q: %v", c.CommandPath(), strings.Join(line, " "), err)
				continue
			}
			if err := cmd.ParseFlags(rest); err != nil {
				t.Errorf("%s: %q: %v", c.CommandPath(), strings.Join(line, " "), err)
				continue
			}
			if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
				t.Errorf("%s: %q: %v", c.CommandPath(), strings.Join(line, " "), err)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCommand())
	if seen < 8 {
		t.Fatalf("only %d example invocations found; the parser of examples is broken", seen)
	}
}

// exampleInvocations finds the ptcdoctor commands in an Example text: lines
// joined at a trailing backslash, split at pipes, && and ;, comments and
// redirections dropped, words split as a shell would for simple quoting.
func exampleInvocations(example string) [][]string {
	var out [][]string
	text := strings.ReplaceAll(example, "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		words := shellWords(line)
		var cur []string
		flush := func() {
			if len(cur) > 0 && cur[0] == "ptcdoctor" {
				out = append(out, cur)
			}
			cur = nil
		}
		for i := 0; i < len(words); i++ {
			switch w := words[i]; {
			case w == "|" || w == "&&" || w == ";" || w == "&":
				flush()
			case strings.HasPrefix(w, "#"):
				i = len(words)
			case w == ">" || w == "<" || w == "2>":
				i++ // the file named after a redirection
			default:
				cur = append(cur, w)
			}
		}
		flush()
	}
	return out
}

// shellWords splits on blanks outside single or double quotes.
func shellWords(s string) []string {
	var words []string
	var b strings.Builder
	var quote rune
	inWord := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			b.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		default:
			b.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, b.String())
	}
	return words
}

func TestExampleInvocationsSplitsShell(t *testing.T) {
	got := exampleInvocations("  echo \"$T\" | ptcdoctor fix --x 'a b' \\\n  --y > f & # c\n  . ./f && aws ecr x")
	if len(got) != 1 || strings.Join(got[0], "|") != "ptcdoctor|fix|--x|a b|--y" {
		t.Fatalf("got %q", got)
	}
}

// TestVersion: --version names the build, for bug reports.
func TestVersion(t *testing.T) {
	out, code := runCLI(t, demoEnv(t), "--version")
	if code != exitOK || !strings.HasPrefix(out, "ptcdoctor ") || !strings.Contains(out, "go1.") {
		t.Fatalf("exit %d: %q", code, out)
	}
}

// TestShellCompletion: the shells complete check ids, upstreams and scenarios
// (cobra's completion scripts call the hidden __complete verb).
func TestShellCompletion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "doctor", "--check", ""}, []string{"credentials\t", "orphan-repository\t", "rule-quota\t"}},
		{[]string{"__complete", "fix", "--check", ""}, []string{"name-mismatch\t"}},
		{[]string{"__complete", "setup", "--upstream", ""}, []string{"docker-hub\tDocker Hub", "ecr\t"}},
		{[]string{"__complete", "sim", "--scenario", ""}, []string{"demo\n", "empty\n"}},
	} {
		out, code := runCLI(t, demoEnv(t), tc.args...)
		for _, w := range tc.want {
			if code != exitOK || !strings.Contains(out, w) {
				t.Errorf("%v: exit %d, no %q in:\n%s", tc.args, code, w, out)
			}
		}
	}
}

// TestUndoCompletesThePlansOfTheJournal: undo completes the plans that can be
// undone, from the journal file alone.
func TestUndoCompletesThePlansOfTheJournal(t *testing.T) {
	env := demoEnv(t)
	if out, code := runCLI(t, env, "fix", "--demo", "--check", "no-lifecycle", "--yes"); code != exitOK {
		t.Fatalf("fix: exit %d:\n%s", code, out)
	}
	out, code := runCLI(t, env, "__complete", "undo", "--demo", "")
	if code != exitOK || !strings.Contains(out, "\tLifecycle policies under quay/ (in 111122223333 us-east-1)") {
		t.Fatalf("exit %d; no plan offered:\n%s", code, out)
	}
	if out, _ := runCLI(t, env, "__complete", "undo", ""); strings.Contains(out, "Lifecycle") {
		t.Fatalf("the demo's plans were offered for a real account:\n%s", out)
	}
}

// TestNoCredentialsIsOneClearMessage: with no credentials anywhere, the user
// reads one message that says what to do, not one failure per API call.
func TestNoCredentialsIsOneClearMessage(t *testing.T) {
	env := append(demoEnv(t), "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent")
	out, code := runCLI(t, env, "doctor")
	if code != exitUsage || !strings.Contains(out, "no usable AWS credentials") || !strings.Contains(out, "aws sso login") ||
		strings.Count(out, "\n") > 3 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}
