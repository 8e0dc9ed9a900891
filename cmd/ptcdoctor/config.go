package main

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// config is ptcdoctor's config file ($XDG_CONFIG_HOME/ptcdoctor/config.yaml): what to
// watch besides the account's own repositories.
type config struct {
	Watch struct {
		Images     []string `yaml:"images"`
		Principals []string `yaml:"principals"`
	} `yaml:"watch"`
}

//go:embed demo-config.yaml
var demoConfig []byte

func configPath() string {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "ptcdoctor", "config.yaml")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".config", "ptcdoctor", "config.yaml")
	}
	return ""
}

// loadConfig reads the config file; a missing one is an empty config. The demo has its own.
func loadConfig(path string, demo bool) (config, error) {
	var c config
	var raw []byte
	switch {
	case demo && path == "":
		raw = demoConfig
	default:
		explicit := path != ""
		if !explicit {
			path = configPath()
		}
		if path == "" {
			return c, nil
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) && !explicit {
			return c, nil
		}
		if err != nil {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
		raw = b
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && err.Error() != "EOF" {
		return c, fmt.Errorf("config %s: %v", path, err)
	}
	return c, nil
}
