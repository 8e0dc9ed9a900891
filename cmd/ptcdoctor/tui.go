package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/ptcdoctor/ptcdoctor/cmd/ptcdoctor/uiengine"
	"github.com/ptcdoctor/ptcdoctor/ecrops"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// runTUISetup opens the interface on the setup forms; setup writes, so writes are on.
func runTUISetup(cmd *cobra.Command, g *globals) error {
	return runInterface(cmd, g, nil, true)
}

// runTUI opens the interface: read-only against AWS unless asked, writes on for the demo;
// over a fleet when the flags name one.
func runTUI(cmd *cobra.Command, g *globals, ff *fleetFlags) error {
	return runInterface(cmd, g, ff, false)
}

func runInterface(cmd *cobra.Command, g *globals, ff *fleetFlags, setup bool) error {
	// A closed terminal ends the interface: by its SIGHUP, or, where none reaches
	// the process (under make, which holds the signal while it waits for its child),
	// by the end of its input or the first write to it that fails.
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGHUP, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Go's standard logger (net/http's "Unsolicited response received on idle
	// HTTP channel", the in-process stand-in's server errors) writes to stderr, which
	// is the screen: while the interface is up, it writes nowhere.
	defer quietLogs()()
	if !g.demo && !g.demoFleet && !setup && !cmd.Flags().Changed("read-only") {
		g.readOnly = true
	}
	if ff != nil && ff.active(g) {
		return runFleetInterface(ctx, cmd, g, ff, cancel)
	}
	if ff != nil {
		if err := ff.oneRegion(g); err != nil {
			return err
		}
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	cfg, err := loadConfig("", g.demo)
	if err != nil {
		return usageError{err}
	}
	eng := uiengine.New(ctx, s.acc, g.demo)
	reopen := func(region, profile string) (ui.Engine, error) {
		ng := *g
		if region != "" {
			ng.region = region
		}
		if profile != "" {
			ng.profile = profile
		}
		ns, err := ng.open(ctx)
		if err != nil {
			return nil, err
		}
		return uiengine.New(ctx, ns.acc, g.demo), nil
	}
	if g.demo {
		reopen = nil // the demo account has one region
	}
	app := ui.New(ctx, eng, ui.Options{Images: cfg.Watch.Images, Principals: cfg.Watch.Principals, Reopen: reopen, Setup: setup,
		Notice: unfinishedNotice(s.acc.Journal())})
	return runProgram(ctx, app, cancel)
}

// runFleetInterface opens the interface on the fleet screen: the targets are named
// (as doctor names them) before it starts, and scanned once it is up.
func runFleetInterface(ctx context.Context, cmd *cobra.Command, g *globals, ff *fleetFlags, cancel func()) error {
	cfg, err := g.loadConfig("")
	if err != nil {
		return usageError{err}
	}
	fc, err := fleetConfig(g, &scope{}, ff)
	if err != nil {
		return err
	}
	var fl *uiengine.Fleet
	var notice string
	if fc.AllRegions {
		// Every candidate region is asked for its rules: the accounts are listed at
		// once, and their account-regions take their rows as they are found.
		accounts, err := ecrops.FleetAccounts(ctx, fc)
		if err != nil {
			return usageError{err}
		}
		fl = uiengine.NewFleet(fc.Base, nil, ff.parallel, cfg.Watch.Principals)
		fl.Discover(fc, accounts)
	} else {
		targets, skipped, err := ecrops.Targets(ctx, fc)
		if err != nil {
			return usageError{err}
		}
		if len(skipped) > 0 {
			notice = fmt.Sprintf("%d account-regions left out: %s %s: %s", len(skipped), skipped[0].Source, skipped[0].Region, skipped[0].Reason)
		}
		fl = uiengine.NewFleet(fc.Base, targets, ff.parallel, cfg.Watch.Principals)
	}
	fl.Demo = g.demoFleet
	app := ui.New(ctx, nil, ui.Options{Images: cfg.Watch.Images, Principals: cfg.Watch.Principals, Fleet: fl, Notice: notice})
	return runProgram(ctx, app, cancel)
}

// runProgram runs the interface on the terminal until it quits or the terminal is gone.
func runProgram(ctx context.Context, app *ui.App, cancel func()) error {
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithOutput(hangupFile{os.Stdout, cancel})}
	if term.IsTerminal(os.Stdin.Fd()) {
		opts = append(opts, tea.WithInput(hangupFile{os.Stdin, cancel}))
	}
	p := tea.NewProgram(app, opts...)
	if _, err := p.Run(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("the interface stopped: %w", err)
	}
	return nil
}

// quietLogs sends the standard logger's lines nowhere, until the function it returns
// puts them back.
func quietLogs() (restore func()) {
	w := log.Writer()
	log.SetOutput(io.Discard)
	return func() { log.SetOutput(w) }
}

// hangupFile is the terminal, watched: the end of its input, or a write that fails,
// means it is gone (a hung-up terminal reads as empty and refuses writes), and gone
// says so. It stays a terminal (*os.File's Fd and the rest), so the interface can
// size it, set it raw and wait on it as before.
type hangupFile struct {
	*os.File
	gone func()
}

func (h hangupFile) Read(p []byte) (int, error) {
	n, err := h.File.Read(p)
	if err != nil || (n == 0 && len(p) > 0) {
		h.gone()
	}
	return n, err
}

func (h hangupFile) Write(p []byte) (int, error) {
	n, err := h.File.Write(p)
	if err != nil {
		h.gone()
	}
	return n, err
}
