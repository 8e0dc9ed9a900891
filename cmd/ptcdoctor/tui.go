package main

import (
	"context"
	"fmt"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/ptcdoctor/ptcdoctor/cmd/ptcdoctor/uiengine"
	"github.com/ptcdoctor/ptcdoctor/ui"
)

// runTUISetup opens the interface on the setup forms; setup writes, so writes are on.
func runTUISetup(cmd *cobra.Command, g *globals) error {
	return runInterface(cmd, g, true)
}

// runTUI opens the interface: read-only against AWS unless asked, writes on for the demo.
func runTUI(cmd *cobra.Command, g *globals) error {
	return runInterface(cmd, g, false)
}

func runInterface(cmd *cobra.Command, g *globals, setup bool) error {
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	if !g.demo && !setup && !cmd.Flags().Changed("read-only") {
		g.readOnly = true
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
	p := tea.NewProgram(app, tea.WithContext(ctx))
	if _, err := p.Run(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("the interface stopped: %w", err)
	}
	return nil
}
