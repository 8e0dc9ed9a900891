package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal of the given width and returns its terminal side.
func openPTY(t *testing.T, cols int) *os.File {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open the terminal side: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: uint16(cols), Row: 40}); err != nil {
		t.Skipf("set the width: %v", err)
	}
	return tty
}

// On a terminal, text is folded to the terminal's width, whatever it is.
func TestTextFoldsToTheTerminalWidth(t *testing.T) {
	for _, cols := range []int{60, 132} {
		tty := openPTY(t, cols)
		if got := textWidth(tty); got != cols {
			t.Errorf("a terminal %d columns wide: width %d", cols, got)
		}
		long := strings.Repeat("a word ", 60)
		for _, l := range strings.Split(fold(long, textWidth(tty), "", ""), "\n") {
			if utf8.RuneCountInString(l) > cols {
				t.Errorf("%d columns: a line of %d", cols, utf8.RuneCountInString(l))
			}
		}
	}
}
