package main

import (
	"bytes"
	"log"
	"strings"
	"testing"
)

// While the interface is up, Go's standard logger (net/http's "Unsolicited response
// received on idle HTTP channel", the stand-in's server errors) writes nowhere: its
// stderr is the screen. Afterwards it writes where it did.
func TestTheInterfaceSilencesTheStandardLogger(t *testing.T) {
	var screen bytes.Buffer
	prev := log.Writer()
	log.SetOutput(&screen)
	defer log.SetOutput(prev)
	restore := quietLogs()
	log.Print(`Unsolicited response received on idle HTTP channel starting with "HTTP/1.1 408"`)
	if screen.Len() != 0 {
		t.Fatalf("a log line reached the screen: %q", screen.String())
	}
	restore()
	log.Print("after the interface")
	if !strings.Contains(screen.String(), "after the interface") {
		t.Fatal("the logger was not given back")
	}
}
