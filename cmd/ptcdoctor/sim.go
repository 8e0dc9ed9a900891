package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
	"github.com/spf13/cobra"
)

func newSimCommand() *cobra.Command {
	var scenario, addr string
	var env, allowRemote bool
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Serve a local stand-in for one AWS account and its upstream registries",
		Long: `sim serves a local stand-in for AWS: ECR, Secrets Manager, STS and IAM on one
endpoint, the ECR registry on another, and admin endpoints under /_sim/.

Its first line on stdout is one JSON object (endpoint, registry, resolve, region,
accountId, accessKeyId, secretAccessKey, admin); with --env, shell export lines
instead. It serves until interrupted.

It serves loopback only unless --allow-remote is given with a wider --addr. The admin
API refuses requests addressed to another host name, cross-origin requests, and writes
that are not Content-Type: application/json.`,
		Example: `  ptcdoctor sim --scenario demo
  ptcdoctor sim --env > sim.env &   # then, once sim.env is written:
  . ./sim.env && aws ecr describe-pull-through-cache-rules`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := sim.LoadScenario(scenario)
			if err != nil {
				return usageError{err}
			}
			if sc.IsFleet() {
				return serveFleet(cmd, sc, addr, env, allowRemote)
			}
			srv, err := sim.New(sc)
			if err != nil {
				return usageError{err}
			}
			// Listen for the stop signal before saying where we serve: a script may send it
			// as soon as it has read the first line.
			stop := make(chan os.Signal, 1)
			signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
			if allowRemote {
				srv.AllowRemote()
			}
			if err := srv.Start(addr); err != nil {
				return usageError{fmt.Errorf("cannot listen: %w", err)}
			}
			defer srv.Close()
			if !sim.IsLoopback(addr) {
				fmt.Fprintf(cmd.ErrOrStderr(), "ptcdoctor sim: WARNING: serving on %s, beyond loopback: the AWS APIs, the registry, the upstreams and the admin API (and the keys it shows) are open to every host that can reach it, without TLS.\n", addr)
			}
			info := srv.Info()
			out := cmd.OutOrStdout()
			if env {
				printEnv(out, info)
			} else {
				line, _ := json.Marshal(info)
				fmt.Fprintln(out, string(line))
			}
			if f, ok := out.(*os.File); ok {
				f.Sync()
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "ptcdoctor sim: serving scenario %q for account %s in %s\n  AWS APIs: %s\n  registry: %s\n  admin:    %s\nPress Ctrl-C to stop.\n",
				sc.Name, info.AccountID, info.Region, info.Endpoint, info.Registry, info.Admin)
			<-stop
			return nil
		},
	}
	cmd.Flags().StringVar(&scenario, "scenario", "demo", "embedded scenario (demo, empty) or path to a scenario YAML file")
	_ = cmd.RegisterFlagCompletionFunc("scenario", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return sim.EmbeddedScenarios(), cobra.ShellCompDirectiveDefault // and files
	})
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "address for the AWS APIs; the registry takes another port on the same host")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "allow an --addr beyond loopback (everything served, the admin API included, is then open to that network)")
	cmd.Flags().BoolVar(&env, "env", false, "print shell export lines instead of the JSON line")
	return cmd
}

// endpointOverrides are the variables that would send a call past AWS_ENDPOINT_URL: a
// service's own endpoint (it wins over the global one) for each service the tool, the
// aws CLI or the stand-in's fleet speaks; the switch that ignores configured endpoints;
// FIPS and dual-stack (which refuse a custom endpoint).
var endpointOverrides = []string{"AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL_ECR_PUBLIC", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
	"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_ORGANIZATIONS", "AWS_ENDPOINT_URL_KMS",
	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"}

// printEnv writes the variables that point the aws CLI, the SDKs and ptcdoctor at the
// stand-in, and nowhere else. The shell may hold variables that would send a call to
// AWS instead: each is unset. The config and credentials files are set to /dev/null, so
// that no profile's endpoint_url, services section, FIPS setting or role reaches a call;
// and loopback is kept out of any proxy (Go never proxies it; the aws CLI would).
func printEnv(out interface{ Write([]byte) (int, error) }, info sim.Info) {
	q := func(s string) string { return "'" + s + "'" }
	fmt.Fprintf(out, "export AWS_ENDPOINT_URL=%s\n", q(info.Endpoint))
	fmt.Fprintf(out, "unset %s\n", strings.Join(endpointOverrides, " "))
	fmt.Fprintf(out, "export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null\n")
	fmt.Fprintf(out, "export NO_PROXY=\"127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}\" no_proxy=\"127.0.0.1,localhost${no_proxy:+,$no_proxy}\"\n")
	fmt.Fprintf(out, "export AWS_REGION=%s\n", q(info.Region))
	fmt.Fprintf(out, "export AWS_DEFAULT_REGION=%s\n", q(info.Region))
	fmt.Fprintf(out, "export AWS_ACCESS_KEY_ID=%s\n", q(info.AccessKeyID))
	fmt.Fprintf(out, "export AWS_SECRET_ACCESS_KEY=%s\n", q(info.SecretAccessKey))
	fmt.Fprintf(out, "unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE\n")
	hosts := make([]string, 0, len(info.Resolve))
	for h := range info.Resolve {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	var resolve string
	for i, h := range hosts {
		if i > 0 {
			resolve += ","
		}
		resolve += h + "=" + info.Resolve[h]
	}
	fmt.Fprintf(out, "export PTCDOCTOR_RESOLVE=%s\n", q(resolve))
	fmt.Fprintf(out, "export PTCDOCTOR_SIM_REGISTRY=%s\n", q(info.Registry))
	fmt.Fprintf(out, "export PTCDOCTOR_SIM_ADMIN=%s\n", q(info.Admin))
}
