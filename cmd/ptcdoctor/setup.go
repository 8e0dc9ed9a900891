package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ptcdoctor/ptcdoctor/diagnose"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/model"
)

func newSetupCommand(g *globals) *cobra.Command {
	var r diagnose.SetupRequest
	var username string
	var tokenStdin, yes, dryRun bool
	cmd := &cobra.Command{
		Use:   "setup (--dry-run | --yes)",
		Short: "Create a pull through cache rule, checked before anything is written, and prove it works",
		Long: `setup checks everything first: the prefix as AWS checks it and against the rules
there; the credentials, tried against the upstream (and its pull budget shown) before
anything is stored; the creation template; the permissions of the principal that
will pull. Then it shows the whole plan, every call and its input, and with --yes
applies it, validates the rule, pulls a small canary image through the cache, and
says how to use it.

Run it again for a prefix that exists and it plans only what differs.`,
		Example: `  echo "$DOCKERHUB_TOKEN" | ptcdoctor setup --upstream docker-hub --username me --token-stdin \
      --principal arn:aws:iam::111122223333:role/eks-node --dry-run
  ptcdoctor setup --upstream ecr-public --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// 0 days would silently become the default: refused, so that no one believes
			// they asked for "never" (or "at once") and got 90 days.
			for _, name := range []string{"template-untagged-days", "template-lifecycle-days", "template-archived-days"} {
				if v, _ := cmd.Flags().GetInt(name); cmd.Flags().Changed(name) && v < 1 {
					return usageError{fmt.Errorf("--%s %d: lifecycle days: 1 to 3650, never 0 (leave the flag out for the default, or use --no-template for no template)", name, v)}
				}
			}
			if !yes && !dryRun && isTerminal(os.Stdin) && isTerminal(os.Stdout) {
				return runTUISetup(cmd, g) // the forms, in the interface
			}
			if yes == dryRun {
				return usageError{errors.New("say --dry-run to see the plan, or --yes to apply it (or run it in a terminal for the forms)")}
			}
			u, ok := diagnose.UpstreamByID(r.Upstream)
			if !ok && r.Upstream != "" {
				return usageError{r.Validate(nil)}
			}
			if r.Upstream == "" {
				return usageError{errors.New("--upstream: which registry to cache (docker-hub, ecr-public, github-container-registry, quay, k8s, gitlab-container-registry, azure-container-registry, chainguard, ecr)")}
			}
			if r.Prefix == "" {
				r.Prefix = u.DefaultPrefix
			}
			if r.Canary == "" {
				r.Canary = u.Canary
			}
			var secretValue string
			if tokenStdin || username != "" {
				if !tokenStdin || username == "" {
					return usageError{errors.New("--username and --token-stdin go together")}
				}
				v, err := secretFromStdin(username)
				if err != nil {
					return err
				}
				secretValue = v
				if r.SecretName == "" && r.SecretArn == "" {
					r.SecretName = "ecr-pullthroughcache/" + strings.ReplaceAll(strings.TrimSuffix(r.Prefix, "/"), "ROOT", "root")
				}
				defer func() { secretValue = "" }()
			}
			s, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			out := cmd.OutOrStdout()
			snap, err := s.acc.Scan(cmd.Context(), ecrops.Scope{RulesOnly: true}, nil)
			if err != nil {
				return err
			}
			if err := r.Validate(diagnose.ValidationSnapshot(snap, r.Prefix)); err != nil { // running again: the prefix may exist
				return usageError{err}
			}
			fmt.Fprintf(out, "Setting up %s for %s in %s, under %s/\n\n", u.Name, snap.AccountID, snap.Region, strings.TrimSuffix(r.Prefix, "/"))

			// The credentials, tried before anything is written.
			if secretValue != "" {
				p := s.acc.CheckCredentials(cmd.Context(), r.URL(), username, strings.TrimSpace(jsonField(secretValue, "accessToken")))
				if !p.Exists {
					say(out, "[FAIL] ", "       ", fmt.Sprintf("%s refused the credentials of %s: %s %s", r.URL(), model.Printable(username), p.Class, p.Message))
					fmt.Fprintln(out, "\nNothing was written.")
					return findingsError{errQuiet}
				}
				budget := "no pull limit reported"
				if rl := p.RateLimit; rl != nil {
					budget = fmt.Sprintf("pull budget %d of %d left in a %dh window", rl.Remaining, rl.Limit, rl.WindowSeconds/3600)
				}
				say(out, "[ ok ] ", "       ", fmt.Sprintf("%s accepted the credentials of %s (%s)", r.URL(), model.Printable(username), budget))
			}
			if r.SecretArn != "" {
				sec := s.acc.DescribeSecret(cmd.Context(), r.SecretArn)
				switch {
				case sec.Error != nil:
					return usageError{fmt.Errorf("--secret-arn: %s", sec.Error.Message)}
				case !sec.Exists:
					return usageError{fmt.Errorf("--secret-arn: %s does not exist", r.SecretArn)}
				case sec.CustomerKey():
					return usageError{fmt.Errorf("--secret-arn: %s is encrypted with a customer managed KMS key; ECR can only read secrets encrypted with aws/secretsmanager", sec.Name)}
				}
				say(out, "[ ok ] ", "       ", fmt.Sprintf("the secret %s exists, in %s, with the default key", sec.Name, snap.Region))
			}
			plan := diagnose.PlanSetup(snap, r)
			if r.Principal != "" {
				prefix := strings.TrimSuffix(r.Prefix, "/")
				perm := s.acc.ProbePermissions(cmd.Context(), r.Principal, fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s/*", snap.Region, snap.AccountID, prefix),
					snap.RegistryPolicy, ecrops.PullActions[:6])
				switch {
				case perm.Error != nil:
					say(out, "[warn] ", "       ", fmt.Sprintf("could not check %s: %s", perm.Principal, perm.Error.Message))
				case !containsAny(perm.Missing, "ecr:BatchImportUpstreamImage", "ecr:CreateRepository"):
					say(out, "[ ok ] ", "       ", fmt.Sprintf("%s may already pull through %s/", perm.Principal, prefix))
					plan.Plan.Steps = dropKind(plan.Plan.Steps, model.StepAddRegistryPolicyStatement)
				default:
					say(out, "[ -- ] ", "       ", fmt.Sprintf("%s lacks %s: the plan grants them in the registry policy", perm.Principal, strings.Join(perm.Missing, ", ")))
				}
			}
			for _, p := range plan.Present {
				say(out, "[ ok ] ", "       ", fmt.Sprintf("already there: %s", p))
			}
			fmt.Fprintln(out)
			if len(plan.Plan.Steps) == 0 {
				fmt.Fprintln(out, "Nothing to change.")
			} else {
				printPlan(out, plan.Plan)
			}
			if dryRun {
				// What the nodes need is known before the rule exists: shown now, so that
				// it can be reviewed with the plan (and applied once the rule is there).
				fmt.Fprintf(out, "\nOnce the rule exists (after --yes), use it like this:\n\n")
				printNextSteps(out, diagnose.NextSteps(snap, r))
				fmt.Fprintln(out, "\n--dry-run: nothing was written. Run again with --yes to apply.")
				return nil
			}
			if len(plan.Plan.Steps) > 0 {
				secrets := map[string]string{}
				if r.SecretName != "" {
					secrets[r.SecretName] = secretValue
				}
				results, err := s.acc.Apply(cmd.Context(), plan.Plan, ecrops.ApplyOptions{SecretValues: secrets})
				printResults(out, results)
				if err != nil {
					return findingsError{fmt.Errorf("setup stopped: %w", err)}
				}
			}
			return prove(cmd.Context(), out, s.acc, snap, r)
		},
	}
	f := cmd.Flags()
	f.StringVar(&r.Upstream, "upstream", "", "the upstream: docker-hub, ecr-public, github-container-registry, quay, k8s, gitlab-container-registry, azure-container-registry, chainguard, ecr")
	_ = cmd.RegisterFlagCompletionFunc("upstream", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, u := range diagnose.Upstreams {
			out = append(out, cobra.CompletionWithDesc(u.ID, u.Name))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
	f.StringVar(&r.AzureRegistry, "azure-registry", "", "for azure-container-registry: the registry's name (.azurecr.io is added)")
	f.StringVar(&r.ECRAccount, "ecr-account", "", "for ecr: the upstream registry's account")
	f.StringVar(&r.ECRRegion, "ecr-region", "", "for ecr: the upstream registry's region")
	f.StringVar(&r.RoleArn, "role-arn", "", "for ecr across accounts: the role in this account ECR assumes")
	f.StringVar(&r.Prefix, "prefix", "", "the cache prefix (default: the console's for the upstream)")
	f.StringVar(&r.UpstreamPrefix, "upstream-prefix", "", "the upstream repository prefix (default ROOT)")
	f.StringVar(&r.SecretArn, "secret-arn", "", "an existing ecr-pullthroughcache/ secret for the credentials")
	f.StringVar(&r.SecretName, "secret-name", "", "the name of the secret to create (default ecr-pullthroughcache/PREFIX)")
	f.StringVar(&username, "username", "", "the upstream user name (the Docker Hub user, the GitHub user, the Chainguard pull token id)")
	f.BoolVar(&tokenStdin, "token-stdin", false, "read the upstream access token from standard input (never echoed, logged or kept)")
	f.BoolVar(&r.NoTemplate, "no-template", false, "do not create a repository creation template")
	f.IntVar(&r.UntaggedDays, "template-untagged-days", 1, "the template's lifecycle: expire untagged images after N days")
	f.IntVar(&r.UnpulledDays, "template-lifecycle-days", 90, "the template's lifecycle: archive images not pulled for N days (pulls of an archived image fail with 404 until it is restored)")
	f.IntVar(&r.ArchivedDays, "template-archived-days", 90, "the template's lifecycle: delete images archived for N days (90 at least)")
	f.StringVar(&r.Principal, "principal", "", "the IAM role or user that will pull (a node role, a CI role)")
	f.StringVar(&r.Canary, "canary", "", "an upstream path:tag to pull through once the rule exists (default: a small image of the upstream)")
	f.BoolVar(&yes, "yes", false, "apply the plan")
	f.BoolVar(&dryRun, "dry-run", false, "show the plan and write nothing")
	return cmd
}

// prove validates the rule, pulls the canary through the cache, and says how to use it.
func prove(ctx context.Context, out io.Writer, acc *ecrops.Account, snap *model.Snapshot, r diagnose.SetupRequest) error {
	prefix := strings.TrimSuffix(r.Prefix, "/")
	failed := false
	fmt.Fprintln(out, "\nProving it:")
	v := acc.ValidateRule(ctx, prefix)
	switch {
	case v.Error != nil:
		say(out, "[FAIL] ", "       ", fmt.Sprintf("ValidatePullThroughCacheRule: %s %s", v.Error.Code, v.Error.Message))
		failed = true
	case !v.IsValid:
		say(out, "[FAIL] ", "       ", fmt.Sprintf("ValidatePullThroughCacheRule: %s", model.Printable(v.Failure)))
		failed = true
	default:
		fmt.Fprintln(out, "[ ok ] ValidatePullThroughCacheRule: valid")
	}
	if r.Canary != "" {
		path, tag, _ := strings.Cut(r.Canary, ":")
		repo := prefix + "/" + path
		if prefix == "ROOT" {
			repo = path
		}
		if digest, err := acc.Warm(ctx, repo, tag); err != nil {
			say(out, "[FAIL] ", "       ", fmt.Sprintf("canary pull of %s:%s: %s", repo, tag, model.Printable(err.Error())))
			failed = true
		} else {
			say(out, "[ ok ] ", "       ", fmt.Sprintf("canary %s/%s:%s pulled through the cache: %s", snap.RegistryURI(), repo, tag, digest))
		}
	}
	fmt.Fprintf(out, "\nNext steps\n\n")
	printNextSteps(out, diagnose.NextSteps(snap, r))
	if failed {
		fmt.Fprintln(out, "\nThe rule exists but does not work yet: ptcdoctor explain <a reference under it> says why.")
		return findingsError{errQuiet}
	}
	return nil
}

func jsonField(doc, key string) string {
	var m map[string]string
	json.Unmarshal([]byte(doc), &m)
	return m[key]
}

func containsAny(list []string, want ...string) bool {
	for _, x := range list {
		for _, w := range want {
			if x == w {
				return true
			}
		}
	}
	return false
}

func dropKind(steps []model.Step, kind model.StepKind) []model.Step {
	var out []model.Step
	for _, s := range steps {
		if s.Kind != kind {
			out = append(out, s)
		}
	}
	return out
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// printNextSteps prints setup's next steps: prose folded, each snippet and command
// (an indented line) whole, to be copied.
func printNextSteps(w io.Writer, text string) {
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if strings.HasPrefix(line, " ") {
			printDocument(w, line, "")
			continue
		}
		say(w, "", "  ", line)
	}
}
