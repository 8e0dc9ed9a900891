package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ptcdoctor/ptcdoctor/ecrops/sim"
)

// serveFleet is `ptcdoctor sim` for a fleet scenario (several accounts and regions behind
// one endpoint). Its first line is the JSON of sim.FleetInfo: the fields of a one-account
// stand-in's line (for the management account) plus every account-region.
func serveFleet(cmd *cobra.Command, sc *sim.Scenario, addr string, env, allowRemote bool) error {
	f, err := sim.NewFleet(sc)
	if err != nil {
		return usageError{err}
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	if allowRemote {
		f.AllowRemote()
	}
	if err := f.Start(addr); err != nil {
		return usageError{fmt.Errorf("cannot listen: %w", err)}
	}
	defer f.Close()
	info := f.Info()
	out := cmd.OutOrStdout()
	if env {
		printEnv(out, info.Info)
	} else {
		line, _ := json.Marshal(info)
		fmt.Fprintln(out, string(line))
	}
	if fl, ok := out.(*os.File); ok {
		fl.Sync()
	}
	regions := 0
	for _, a := range info.Accounts {
		regions += len(a.Regions)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "ptcdoctor sim: serving fleet %q: %s, %s\n  AWS APIs: %s (the key's account, the signature's region)\n  signed in as: %s in %s\n  admin:    %s (/_sim/accounts lists each account-region's registry and admin)\nPress Ctrl-C to stop.\n",
		sc.Name, plural(len(info.Accounts), "account"), plural(regions, "account-region"), info.Endpoint, info.AccountID, info.Region, info.Admin)
	<-stop
	return nil
}
