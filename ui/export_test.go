package ui

// Busy lets the tests wait for the state they judge: no scan running and no
// request unanswered.
func Busy(a *App) bool { return a.busy() }

// Coalesce is how the scan's reports are thinned before they reach the screen.
func Coalesce(send func(Progress)) func(Progress) { return coalesce(send) }

// PathCut is how a list shortens a path cell.
var PathCut = pathCut
