// Package ui holds the terminal interface: bubbletea screens and components over the
// model, the checks and the engine's interfaces. It never calls AWS itself.
package ui
