package ui

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/ptcdoctor/ptcdoctor/model"
)

// The command line: what : opens.

var commandNames = []string{"rules", "repos", "findings", "journal", "explain ", "setup", "region ", "profile ", "refresh", "fleet", "help", "quit"}

func (a *App) commandKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		a.mode = modeNormal
		a.cmdline.Blur()
		return nil
	case "enter":
		a.mode = modeNormal
		a.cmdline.Blur()
		return a.run(a.cmdline.Value())
	}
	var cmd tea.Cmd
	a.cmdline, cmd = a.cmdline.Update(msg)
	return cmd
}

// run carries out a :command.
func (a *App) run(line string) tea.Cmd {
	verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	arg = strings.TrimSpace(arg)
	switch verb {
	case "fleet":
		a.toFleet()
		return nil
	case "", "help", "q", "quit":
	default:
		if a.needsTarget() {
			return nil
		}
	}
	switch verb {
	case "rules":
		return a.jump(0)
	case "repos", "repositories":
		if arg != "" {
			a.jump(1)
			a.push(newReposScreen(a.c, arg))
			return nil
		}
		return a.jump(1)
	case "findings":
		a.jump(2)
		a.tabs[2].(filterable).setFilter(arg)
	case "journal":
		return a.jump(3)
	case "explain":
		s := newExplainScreen(a.c, a.active)
		a.push(s)
		return s.start(arg)
	case "setup":
		if a.c.snap == nil {
			a.note("the account is still being read: :setup once it is")
			return nil
		}
		s := newSetupScreen(a.c)
		a.push(s)
		return s.start()
	case "refresh":
		return a.startScan()
	case "help":
		a.push(newHelpScreen(a.c, a.active))
	case "q", "quit":
		return a.quit()
	case "region", "profile":
		return a.reopen(verb, arg)
	case "":
	default:
		a.fail("", "Unknown command :"+model.Printable(verb)+" (try "+commandList()+")", "")
	}
	return nil
}

// commandList is every command, as the unknown command's hint names them.
func commandList() string {
	args := map[string]string{"explain ": "REF", "region ": "NAME", "profile ": "NAME"}
	var out []string
	for _, c := range commandNames {
		out = append(out, ":"+c+args[c])
	}
	return strings.Join(out, ", ")
}

// reopen opens the account in another region or profile and reads it afresh.
func (a *App) reopen(verb, arg string) tea.Cmd {
	if a.fleet != nil { // a fleet's account-regions are its rows: another is opened from there
		if r, ok := a.fleet.sameAccountIn(arg); ok && verb == "region" {
			return a.fleet.enter(&row{id: "target " + r.ID, ref: r})
		}
		a.fail("", "A fleet's account-regions are on the fleet screen ("+a.fleet.count()+"): F, then enter on the one to open; :"+verb+" changes one account-region's run", "")
		return nil
	}
	if a.c.opts.Reopen == nil {
		// The demo, or an account opened once: there is nothing else to open.
		if a.c.eng.Header().Demo {
			a.fail("", "The demo has one region and one profile: :"+verb+" cannot change it (run ptcdoctor without --demo for an AWS account)", "")
		} else {
			a.fail("", "The "+verb+" cannot be changed in this run", "")
		}
		return nil
	}
	if arg == "" {
		example := "eu-west-1"
		if verb == "profile" {
			example = "prod"
		}
		a.fail("", ":"+verb+" needs a name, like :"+verb+" "+example, "")
		return nil
	}
	region, profile := arg, ""
	if verb == "profile" {
		region, profile = "", arg
	}
	eng, err := a.c.opts.Reopen(region, profile)
	if err != nil {
		a.fail("", "Could not open "+verb+" "+arg, err.Error())
		return nil
	}
	a.c.eng = eng
	a.c.setData(nil, nil)
	a.jump(0)
	return a.startScan()
}
