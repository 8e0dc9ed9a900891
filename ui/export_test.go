package ui

// Busy lets the tests wait for the state they judge: no scan running and no
// request unanswered.
func Busy(a *App) bool { return a.busy() }
